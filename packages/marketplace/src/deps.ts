// semver, loaded on first use: a search over a cached snapshot does not need it, and loading it up
// front cost `ggen market search` more than the search itself.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

let semverModule: typeof import("semver") | undefined;
export function semver(): typeof import("semver") {
  semverModule ??= require("semver") as typeof import("semver");
  return semverModule;
}
