// The error model lives in @ggen/support (which depends on nothing); the contract hands it on so that
// packages importing `GgenError` from "@ggen/contract" keep working.
export type { ErrorKind, GgenErrorOptions, SourceLocation } from "@ggen/support";
export { formatLocation, GgenError, isGgenError } from "@ggen/support";
