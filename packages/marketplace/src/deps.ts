// semver and node:zlib, loaded on first use: a search over a cached snapshot needs neither, and
// loading them up front cost `ggen market search` more than the search itself.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

let semverModule: typeof import("semver") | undefined;
export function semver(): typeof import("semver") {
  semverModule ??= require("semver") as typeof import("semver");
  return semverModule;
}

let zlibModule: typeof import("node:zlib") | undefined;
export function zlib(): typeof import("node:zlib") {
  zlibModule ??= require("node:zlib") as typeof import("node:zlib");
  return zlibModule;
}
