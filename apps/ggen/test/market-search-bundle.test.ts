// `ggen market search` runs from the search-only bundle (dist/market-search.cjs) when its line is plain:
// the same bytes on stdout and stderr and the same exit code as the full program, whether a snapshot
// answers or the installed @ggen/marketplace has to — and on the snapshot path nothing else loads.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { syntheticIndex } from "@ggen/marketplace";
import { afterAll, expect, it } from "vitest";
import { bin, fixtureRegistry } from "./market-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "ggen-search-bundle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const registry = join(dir, "registry");
mkdirSync(registry);
writeFileSync(join(registry, "index.json"), JSON.stringify(syntheticIndex(300)));
const project = join(dir, "project");
mkdirSync(project);
const full = join(import.meta.dirname, "..", "dist", "index.mjs");

function run(how: "bundle" | "full", argv: string[], env: Record<string, string>, node: string[] = []) {
  const args =
    how === "bundle"
      ? [...node, bin, ...argv]
      : [
          "--input-type=module",
          "-e",
          `const m = await import(${JSON.stringify(full)}); process.exitCode = await m.runProgram(m.program, ${JSON.stringify(argv)});`,
        ];
  const r = spawnSync(process.execPath, args, {
    cwd: project,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NO_COLOR: "1", ...env },
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines: string[][] = [
  ["market", "search", "rust", "cli", "--registry", registry, "--limit", "10"],
  ["market", "search", "rust", "--registry", registry, "--json"],
  ["market", "search", "--registry", registry, "--tags", "cli", "--min-quality", "50", "--limit", "3"],
  ["market", "search", "zzzzqqq", "--registry", registry],
  ["market", "search", "rust", "--registry", registry, "--limit", "0"],
  ["market", "search", "rust", "--registry", join(dir, "nowhere")],
  ["market", "search", "rust", "--registry", "ftp://example.invalid/x"],
  ["market", "search", "postgres", "--registry", fixtureRegistry],
  ["market", "search", "postgres"],
];

it("prints what the full program prints, snapshot or not, errors included", { timeout: 300_000 }, () => {
  for (const argv of lines) {
    const env = { GGEN_HOME: mkdtempSync(join(dir, "home-")) };
    const first = run("bundle", argv, env); // no snapshot yet: the installed package answers, and saves one
    const reference = run("full", argv, env);
    const again = run("bundle", argv, env); // from the snapshot
    expect(first, argv.join(" ")).toEqual(reference);
    expect(again, argv.join(" ")).toEqual(reference);
  }
  const viaEnv = { GGEN_HOME: mkdtempSync(join(dir, "home-")), GGEN_REGISTRY: registry };
  const argv = ["market", "search", "rust"];
  expect(run("bundle", argv, viaEnv)).toEqual(run("full", argv, viaEnv));
  expect(run("bundle", argv, viaEnv)).toEqual(run("full", argv, viaEnv));
});

it("answers from the snapshot loading no package, no node:crypto; a config file goes the full way", () => {
  const hook = join(dir, "hook.mjs");
  const log = join(dir, "loaded.txt");
  writeFileSync(
    hook,
    `import { appendFileSync } from "node:fs";
     import { register } from "node:module";
     register("data:text/javascript," + encodeURIComponent(${JSON.stringify(
       `import { appendFileSync } from "node:fs";
        export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + "\\n"); return r; }`,
     )}));`,
  );
  // What require() loads (the bin and the search bundle are CommonJS), in the same log and form.
  const requireHook = join(dir, "require-hook.cjs");
  writeFileSync(
    requireHook,
    `const Module = require("node:module");
     const { appendFileSync } = require("node:fs");
     const { pathToFileURL } = require("node:url");
     const load = Module._load;
     Module._load = function (request, parent, isMain) {
       const url = Module.isBuiltin(request)
         ? (request.startsWith("node:") ? request : "node:" + request)
         : pathToFileURL(Module._resolveFilename(request, parent, isMain)).href;
       appendFileSync(${JSON.stringify(log)}, url + "\\n");
       return load.apply(this, arguments);
     };`,
  );
  const env = { GGEN_HOME: mkdtempSync(join(dir, "home-")) };
  const loaded = (argv = ["market", "search", "rust", "--registry", registry]) => {
    rmSync(log, { force: true });
    const r = run("bundle", argv, env, ["--require", requireHook, "--import", hook]);
    expect(r.status, r.stderr).toBe(0);
    return readFileSync(log, "utf8").trim().split("\n");
  };
  expect(loaded()).toContain("node:crypto"); // the first search builds the snapshot: the full package
  const second = loaded();
  expect([
    ...new Set(second.filter((u) => u.startsWith("file:")).map((u) => u.replace(/.*\/dist\//, ""))),
  ]).toEqual(["bin.js", "market-search.cjs"]);
  expect(second).not.toContain("node:crypto");
  // Without --registry or GGEN_REGISTRY a project config may name the registries: read by the full
  // package, never guessed past, snapshot or not.
  const bundled = ["market", "search", "rust"];
  expect(loaded(bundled)).toContain("node:crypto");
  expect(loaded(bundled)).not.toContain("node:crypto");
  mkdirSync(join(project, ".ggen"), { recursive: true });
  writeFileSync(join(project, ".ggen", "config.toml"), "[marketplace]\n");
  try {
    expect(loaded(bundled).some((u) => u.includes("/marketplace/dist/"))).toBe(true);
  } finally {
    rmSync(join(project, ".ggen"), { recursive: true, force: true });
  }
});

it("loads none of node:module, node:crypto, node:tty, node:net, node:os on the snapshot path (Node's own list, no hooks)", () => {
  const probe = join(dir, "builtins.cjs");
  writeFileSync(
    probe,
    `process.on("exit", () => require("node:fs").writeSync(2, "\\nBUILTINS " + JSON.stringify(
  process.moduleLoadList.filter((m) => /^NativeModule (module|crypto|tty|net|os)$/.test(m))) + "\\n"));`,
  );
  const env = { GGEN_HOME: mkdtempSync(join(dir, "home-")) };
  const argv = ["market", "search", "rust", "--registry", registry];
  expect(run("bundle", argv, env).status).toBe(0); // the first search saves the snapshot
  const r = run("bundle", argv, env, ["--require", probe]);
  expect(r.status, r.stderr).toBe(0);
  expect(JSON.parse(r.stderr.split("\nBUILTINS ")[1] ?? "null")).toEqual([]);
});
