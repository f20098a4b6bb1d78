// Public entry of @ggen/cleanroom-backends; filled in by its issue.
export const packageName = "@ggen/cleanroom-backends";
