// Public entry of @ggen/generator; filled in by its issue.
export const packageName = "@ggen/generator";
