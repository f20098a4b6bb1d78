// Public entry of @ggen/marketplace; filled in by its issue.
export const packageName = "@ggen/marketplace";
