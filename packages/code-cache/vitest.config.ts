// Shared defaults (timeouts, test file globs): see vitest.shared.ts at the repository root.
export { default } from "../../vitest.shared.ts";
