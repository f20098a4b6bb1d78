// Public entry of @ggen/lifecycle; filled in by its issue.
export const packageName = "@ggen/lifecycle";
