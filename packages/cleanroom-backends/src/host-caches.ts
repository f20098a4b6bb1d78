// The host's package caches an environment may be given (`caches: ["npm", "cargo"]`), never written by
// what runs there: each backend gives commands a copy-on-write view or a private copy of them.
import { homedir } from "node:os";
import { join } from "node:path";

export function hostCacheDirs(): Record<"npm" | "cargo", string> {
  return {
    npm: process.env.npm_config_cache ?? join(homedir(), ".npm"),
    cargo: process.env.CARGO_HOME ?? join(homedir(), ".cargo"),
  };
}
