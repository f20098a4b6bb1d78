// Where ggen keeps what it reuses between runs. Imports only node:os and node:path: bin.ts reads it before
// anything else loads.
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** $GGEN_HOME/cache/<kind> (GGEN_HOME defaults to ~/.ggen): compiled templates (`templates`), prepared
 * dependency trees (`node-modules`), V8's compiled code of the `gen` bundle (`code`). */
export function cacheDir(
  kind: "templates" | "node-modules" | "code",
  env: NodeJS.ProcessEnv = process.env,
): string {
  return join(resolve(env.GGEN_HOME ?? join(homedir(), ".ggen")), "cache", kind);
}
