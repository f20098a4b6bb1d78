// The release dry run: every publishable workspace package packed (`pnpm pack`, which turns `workspace:*`
// into the exact version), installed with npm into an empty project outside the workspace, and used there
// the way a user would: both programs through npx, every library imported by Node, and the types checked
// by tsc. Third-party dependencies come from the npm registry (npm's cache first: --prefer-offline).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repo } from "./repo.js";

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  bin?: Record<string, string>;
  types?: string;
  main?: string;
  exports?: Record<string, string | Record<string, string>>;
  dependencies?: Record<string, string>;
  publishConfig?: { access?: string };
  devDependencies?: Record<string, string>;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, "utf8")) as T;

/** The workspace packages a release publishes: packages/* and apps/*, the private ones left out. */
const publishable = ["packages", "apps"].flatMap((group) =>
  readdirSync(join(repo, group))
    .map((name) => readJson<Manifest>(join(repo, group, name, "package.json")))
    .filter((m) => !m.private),
);
const libraries = publishable.filter((m) => !m.bin);
const rootDev = readJson<Manifest>(join(repo, "package.json")).devDependencies ?? {};
const tarballName = (name: string, version: string) =>
  `${name.replace(/^@/, "").replace("/", "-")}-${version}.tgz`;

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, out: r.stdout ?? "", err: `${r.stderr ?? ""}${r.error?.message ?? ""}` };
}

describe("packed packages install and work outside the workspace", () => {
  const dir = mkdtempSync(join(tmpdir(), "ggen-packages-"));
  const tarballs = join(dir, "tarballs");
  const project = join(dir, "project");
  // npm's own cache (shared, so a second run is offline), no update notice, and npx never fetches a
  // program that is not installed (npm_config_yes=false).
  const npmEnv = { ...process.env, npm_config_update_notifier: "false", npm_config_yes: "false" };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  beforeAll(() => {
    const pack = sh(
      process.execPath,
      [
        join(repo, "scripts", "pnpm.mjs"),
        "-r",
        "--filter",
        "./packages/*",
        "--filter",
        "./apps/*",
        "pack",
        "--pack-destination",
        tarballs,
      ],
      repo,
    );
    expect(pack.status, pack.err.slice(-2000)).toBe(0);
    mkdirSync(project);
    writeFileSync(
      join(project, "package.json"),
      `${JSON.stringify({ name: "scratch", private: true, type: "module" }, null, 2)}\n`,
    );
    // Install scripts stay off: the only ones are ssh2's optional native speed-ups (node-gyp), which
    // would fetch Node's headers from outside the npm registry.
    const install = sh(
      "npm",
      [
        "install",
        "--prefer-offline",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        ...readdirSync(tarballs).map((t) => join(tarballs, t)),
        `typescript@${rootDev.typescript}`,
        `@types/node@${rootDev["@types/node"]}`,
      ],
      project,
      npmEnv,
    );
    expect(install.status, install.err.slice(-3000)).toBe(0);
  });

  it("packs one tarball per publishable package, with real versions and every declared file", () => {
    const names = readdirSync(tarballs).sort();
    expect(names).toEqual(publishable.map((m) => tarballName(m.name, m.version)).sort());
    for (const m of publishable) {
      const tgz = join(tarballs, tarballName(m.name, m.version));
      const packed = JSON.parse(sh("tar", ["-xzOf", tgz, "package/package.json"], dir).out) as Manifest;
      const files = new Set(
        sh("tar", ["-tzf", tgz], dir)
          .out.split("\n")
          .map((f) => f.replace(/^package\//, "")),
      );
      expect(JSON.stringify(packed.dependencies ?? {}), m.name).not.toContain("workspace:");
      expect(packed.publishConfig?.access, m.name).toBe("public");
      const declared = [
        packed.main,
        packed.types,
        ...Object.values(packed.bin ?? {}),
        ...Object.values(packed.exports ?? {}).flatMap((e) =>
          typeof e === "string" ? [] : Object.values(e),
        ),
      ].filter((p): p is string => typeof p === "string");
      expect(declared.length, m.name).toBeGreaterThan(0);
      expect(files, `${m.name}: README.md`).toContain("README.md");
      for (const p of declared) expect(files, `${m.name}: ${p}`).toContain(p.replace(/^\.\//, ""));
    }
  });

  it("runs both programs through npx", () => {
    for (const [program, usage] of [
      ["ggen", "Usage: ggen <command>"],
      ["cleanroom", "Usage: cleanroom <command>"],
    ] as const) {
      const help = sh("npx", [program, "--help"], project, npmEnv);
      expect(help.status, help.err).toBe(0);
      expect(help.out).toContain(usage);
    }
    const ggen = publishable.find((m) => m.name === "@ggen/ggen");
    const version = sh("npx", ["ggen", "--version"], project, npmEnv);
    expect(version.out.trim()).toBe(ggen?.version);
  });

  it("renders a template and queries a graph with the installed ggen", () => {
    const work = join(project, "work");
    mkdirSync(work);
    writeFileSync(join(work, "hello.tmpl"), "---\nto: out/hello.txt\n---\nHello {{name}}\n");
    const gen = sh(
      "npx",
      ["ggen", "template", "generate", "hello.tmpl", "--vars", "name=World"],
      work,
      npmEnv,
    );
    expect(gen.status, gen.err).toBe(0);
    expect(readFileSync(join(work, "out", "hello.txt"), "utf8")).toBe("Hello World\n");

    writeFileSync(
      join(work, "g.ttl"),
      '@prefix ex: <http://example.org/> .\nex:a ex:name "Alice" .\nex:b ex:name "Bob" .\n',
    );
    const query = "SELECT ?n WHERE { ?s <http://example.org/name> ?n } ORDER BY ?n";
    const q = sh(
      "npx",
      ["ggen", "graph", "query", "g.ttl", "--query", query, "--format", "json"],
      work,
      npmEnv,
    );
    expect(q.status, q.err).toBe(0);
    expect(q.out).toContain("Alice");
    expect(q.out).toContain("Bob");
  });

  it("imports every library from Node and validates with @ggen/contract", () => {
    const script = [
      'import { readFileSync } from "node:fs";',
      'import { validate } from "@ggen/contract";',
      ...libraries.map((m, i) => `import * as m${i} from "${m.name}";`),
      `const counts = [${libraries.map((_, i) => `Object.keys(m${i}).length`).join(", ")}];`,
      'const example = JSON.parse(readFileSync("node_modules/@ggen/contract/examples/cleanroom-run.v1.json", "utf8"));',
      'console.log(JSON.stringify({ counts, good: validate("cleanroom-run/v1", example).ok, bad: validate("cleanroom-run/v1", {}).ok }));',
    ].join("\n");
    writeFileSync(join(project, "use.mjs"), script);
    const r = sh(process.execPath, ["use.mjs"], project);
    expect(r.status, r.err).toBe(0);
    const seen = JSON.parse(r.out) as { counts: number[]; good: boolean; bad: boolean };
    for (const [i, n] of seen.counts.entries()) expect(n, libraries[i]?.name).toBeGreaterThan(0);
    expect(seen).toMatchObject({ good: true, bad: false });
  });

  it("type-checks a consumer with tsc, and the types catch a wrong contract kind", () => {
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          noEmit: true,
          types: ["node"],
        },
        files: ["main.ts"],
      }),
    );
    // Every library's declarations are read (skipLibCheck is off), the result type narrows, and a wrong
    // contract kind is a type error: were the types missing or `any`, the directive would be unused (an error).
    const main = [
      'import { validate, type CleanroomRun } from "@ggen/contract";',
      ...libraries.map((m, i) => `import type * as T${i} from "${m.name}";`),
      `export type All = [${libraries.map((_, i) => `typeof T${i}`).join(", ")}];`,
      'const r = validate("cleanroom-run/v1", JSON.parse("{}"));',
      "export const run: CleanroomRun | undefined = r.ok ? r.value : undefined;",
      "// @ts-expect-error: not a contract kind",
      'validate("no-such-kind/v1", {});',
    ].join("\n");
    writeFileSync(join(project, "main.ts"), `${main}\n`);
    const tsc = sh(join(project, "node_modules", ".bin", "tsc"), ["-p", "."], project);
    expect(tsc.status, tsc.out + tsc.err).toBe(0);
  });
});
