// Public entry of @ggen/rdf; filled in by its issue.
export const packageName = "@ggen/rdf";
