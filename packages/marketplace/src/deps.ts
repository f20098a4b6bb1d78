// Libraries loaded on first use: a search over a cached snapshot needs neither, and loading them
// up front cost `ggen market search` more than the search itself.
import { createRequire } from "node:module";
import type { Ajv2020 } from "ajv/dist/2020.js";

const require = createRequire(import.meta.url);

let semverModule: typeof import("semver") | undefined;
export function semver(): typeof import("semver") {
  semverModule ??= require("semver") as typeof import("semver");
  return semverModule;
}

export function newAjv(): Ajv2020 {
  const { Ajv2020: Ctor } = require("ajv/dist/2020.js") as typeof import("ajv/dist/2020.js");
  return new Ctor({ allErrors: false, strict: true, strictRequired: false, allowUnionTypes: true });
}
