// A plain `ggen gen` line runs from its own bundle (dist/gen.cjs) with V8's code cache: the same output,
// files and exit code as the full program — with graphs (@ggen/rdf imported from outside the bundle),
// with a pack's libraries loaded lazily, on errors — whether the cache is empty, warm or unwritable; and
// a line the table parse declines (help, an unknown flag) goes to the full program.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, expect, it } from "vitest";
import { staticImports } from "../scripts/gen-bundle.js";
import { bin, repoRoot } from "./market-helpers.js";

const dir = mkdtempSync(join(tmpdir(), "ggen-gen-bundle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// The full program, from a script file (the RDF engine's worker inherits Node's flags: no `-e` here).
const full = join(dir, "full.mjs");
writeFileSync(
  full,
  `const m = await import(${JSON.stringify(join(import.meta.dirname, "..", "dist", "index.mjs"))});
process.exitCode = await m.runProgram(m.program, process.argv.slice(2));`,
);
const pack = join(repoRoot, "fixtures", "templates");
const hygenLike = join(repoRoot, "packages", "generator", "bench", "fixtures", "ggen-one");

// Durations and clock times differ run to run; nothing else may.
const steady = (s: string) =>
  s
    .replace(/\b\d+(\.\d+)? ?ms\b/g, "N ms")
    .replace(/("\w*Ms": )[\d.]+/g, "$1N")
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, "T");

function run(how: "bundle" | "full", argv: string[], cwd: string, home: string) {
  const r = spawnSync(process.execPath, [how === "bundle" ? bin : full, ...argv], {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NO_COLOR: "1", GGEN_HOME: home },
    timeout: 120_000,
  });
  return { status: r.status, stdout: steady(r.stdout), stderr: steady(r.stderr) };
}

/** Every file under `root`, by relative path. */
function files(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(root, p)] = steady(readFileSync(p, "utf8"));
    }
  };
  walk(root);
  return out;
}

const lines: string[][] = [
  ["gen", hygenLike, "--vars", "name=OrderLine", "-o", "out", "--manifest", "none"],
  ["gen", `${pack}:schema.sql`, "-o", "out"],
  ["gen", pack, "-o", "out", "--vars", "service=shop"],
  ["gen", pack, "-o", "out", "--dry-run", "--json"],
  ["gen", hygenLike, "-o", "out"], // a required var missing
  ["gen", join(dir, "nowhere"), "-o", "out"],
  ["gen", hygenLike, "--vars", "name=OrderLine", "--bogus"], // declined by the table parse
  ["gen", "--help"],
];

it("prints and writes what the full program does, cache empty, warm or unwritable", {
  timeout: 600_000,
}, () => {
  for (const argv of lines) {
    const label = argv.map((a) => a.replace(repoRoot, "<repo>")).join(" ");
    const home = mkdtempSync(join(dir, "home-"));
    const results = ["full", "bundle", "bundle"].map((how) => {
      const cwd = mkdtempSync(join(dir, "project-"));
      const r = run(how as "bundle" | "full", argv, cwd, home);
      return { ...r, files: files(cwd) };
    });
    expect(results[1], `${label} (empty cache)`).toEqual(results[0]);
    expect(results[2], `${label} (warm cache)`).toEqual(results[0]);
  }
  // A cache dir that cannot be made (GGEN_HOME is a file's child): the run is the same, only slower.
  const blocked = join(dir, "a-file");
  writeFileSync(blocked, "");
  const argv = lines[0] as string[];
  const cwd = mkdtempSync(join(dir, "project-"));
  const ref = run("full", argv, mkdtempSync(join(dir, "project-")), mkdtempSync(join(dir, "home-")));
  expect(run("bundle", argv, cwd, join(blocked, "home"))).toEqual(ref);
});

it("keeps V8's compiled code of the bundle under $GGEN_HOME/cache/code", () => {
  const home = mkdtempSync(join(dir, "home-"));
  const cwd = mkdtempSync(join(dir, "project-"));
  const argv = lines[0] as string[];
  expect(run("bundle", argv, cwd, home).status).toBe(0);
  // The first run's entry waits for the second's, which settles it (@ggen/code-cache).
  expect(readdirSync(join(home, "cache", "code"))).toEqual([
    expect.stringMatching(/^gen\.cjs-[0-9a-z]+-[0-9a-z]+\.1\.v8$/),
  ]);
  expect(run("bundle", argv, cwd, home).status).toBe(0);
  expect(readdirSync(join(home, "cache", "code"))).toEqual([
    expect.stringMatching(/^gen\.cjs-[0-9a-z]+-[0-9a-z]+\.v8$/),
  ]);
});

// A plain generation, its output discarded: what it must not load — node:tty with Node's net and stream
// modules (asked only about a possible terminal), node:crypto (no digest is read: no manifest, no
// JSON), node:os (with GGEN_HOME set, no home directory is asked for), node:module (bin.js's own
// require runs the bundle), nor the side chunks of rarer libraries (diff, TOML edits, --watch). With --json the digests
// are there, and right.
it("leaves node:tty, node:crypto and the side chunks unloaded on a plain run", () => {
  const home = mkdtempSync(join(dir, "home-"));
  const cwd = mkdtempSync(join(dir, "project-"));
  const probe = join(dir, "loads.cjs");
  writeFileSync(
    probe,
    `process.on("exit", () => require("node:fs").writeSync(2, "\\nLOADS " + JSON.stringify({
  builtins: process.moduleLoadList.filter((m) => /^NativeModule (tty|net|crypto|stream|os|module)$/.test(m)),
  chunks: Object.keys(require.cache).filter((f) => /gen-[\\w-]+\\.cjs$/.test(f)),
}) + "\\n"));`,
  );
  const argv = ["gen", hygenLike, "--vars", "name=OrderLine", "-o", "out", "--manifest", "none"];
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", GGEN_HOME: home };
  // The first run compiles the templates with the full Handlebars, found through node:module; the next
  // runs read them from the cache.
  for (const builtins of [["NativeModule module"], [], []]) {
    const r = spawnSync(process.execPath, ["--require", probe, bin, ...argv], {
      cwd,
      env,
      encoding: "utf8",
      stdio: ["ignore", "ignore", "pipe"],
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stderr.split("\nLOADS ")[1] ?? "null")).toEqual({ builtins, chunks: [] });
  }
  const json = spawnSync(process.execPath, [bin, ...argv, "--json"], { cwd, env, encoding: "utf8" });
  const { files } = JSON.parse(json.stdout) as { files: { path: string; sha256: string }[] };
  expect(files).toHaveLength(5);
  for (const f of files)
    expect(f.sha256).toBe(
      createHash("sha256")
        .update(readFileSync(join(cwd, "out", f.path)))
        .digest("hex"),
    );
});

// The program's `await import("@ggen/…")` of a package gen.cjs inlines, read as a static import's
// bindings: no namespace object (a getter for each export) is built at every run.
it("reads the bundle's @ggen imports as static bindings", () => {
  const source = [
    'const { generate } = await import("@ggen/generator");',
    'const { table, Progress } = await import("@ggen/reporter");',
    'const { watchGenerate } = await import("@ggen/generator");',
    'type T = typeof import("@ggen/generator");',
  ].join("\n");
  expect(staticImports(source)).toBe(
    [
      'import * as __static_generator from "@ggen/generator";',
      'import * as __static_reporter from "@ggen/reporter";',
      "const generate = __static_generator.generate;",
      "const table = __static_reporter.table, Progress = __static_reporter.Progress;",
      "const watchGenerate = __static_generator.watchGenerate;",
      'type T = typeof import("@ggen/generator");',
    ].join("\n"),
  );
  const bundle = readFileSync(join(repoRoot, "apps/ggen/dist/gen.cjs"), "latin1");
  expect(bundle.match(/__export\(\w+/g)).not.toContain("__export(dist_exports");
});
