// Hostile input for generation's writes: the manifest path, plans, the lock and the base store are all
// input. Each case: refused in one line with the right exit code, nothing written (or left half-written),
// nothing outside the project touched, and the ordinary generation after it succeeding.
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { expectRefused, type Ran, run, Sandbox } from "./harness.js";

const box = new Sandbox("generation-writes");
afterAll(() => box.dispose());

const template = `---
to: "src/{{name}}.ts"
vars:
  name: a
  greeting: Hello
---
// {{greeting}}
export const value = 1;

// ggen:manual custom
// ggen:end
`;

function put(rel: string, text: string): void {
  mkdirSync(dirname(join(box.root, rel)), { recursive: true });
  writeFileSync(join(box.root, rel), text);
}
const get = (rel: string) => readFileSync(join(box.root, rel), "utf8");
const ggen = (...args: string[]): Promise<Ran> => run("ggen", args, { cwd: box.root });
const gen = (...args: string[]) => ggen("gen", "t/a.tmpl", "-o", "out", ...args);
/** Every file under the project's out/ (but .ggen), with its content. */
function outTree(dir = join(box.root, "out"), rel = ""): Record<string, string> {
  const out: Record<string, string> = {};
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(join(dir, rel), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.name === ".ggen") continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, outTree(dir, r));
    else out[r] = readFileSync(join(dir, r), "utf8");
  }
  return out;
}
/** The ordinary generation succeeds afterwards. */
async function stillWorks(): Promise<void> {
  const r = await gen("--force");
  expect(r.code, r.stderr).toBe(0);
}

beforeEach(() => {
  for (const e of readdirSync(box.root)) rmSync(join(box.root, e), { recursive: true, force: true });
  put("t/a.tmpl", template);
});

describe("generation writes under hostile input", () => {
  it("a manifest path that is a directory: refused before any output is written", async () => {
    mkdirSync(join(box.root, "m.json"));
    expectRefused(await gen("--manifest", "m.json"), 2);
    expect(outTree()).toEqual({});
    box.check();
    await stillWorks();
  });

  it("--manifest into a directory that does not exist, outside the output dir: no directory is made", async () => {
    expectRefused(await gen("--manifest", "made/up/dirs/m.json"), 2);
    expect(readdirSync(box.root).sort()).toEqual(["t"]);
    expectRefused(await gen("--manifest", "../outside/new/m.json"), 2);
    box.check();
    await stillWorks();
  });

  it("--manifest outside the project, or through a link out of the output dir: refused", async () => {
    expectRefused(await gen("--manifest", "../outside/m.json"), 2);
    mkdirSync(join(box.root, "out"));
    symlinkSync(join(box.outside), join(box.root, "out", ".ggen"));
    expectRefused(await gen(), 2);
    box.check();
    rmSync(join(box.root, "out", ".ggen"));
    await stillWorks();
  });

  it("an output whose parent is a file: exit 1, no other output written, no base store left", async () => {
    put("t/b.tmpl", "---\nto: blocked/x.txt\n---\nb\n");
    put("out/blocked", "a file\n");
    expectRefused(await ggen("gen", "t", "-o", "out"), 1);
    expect(outTree()).toEqual({ blocked: "a file\n" });
    box.check();
    rmSync(join(box.root, "out/blocked"));
    await stillWorks();
  });

  it("a lock that is not a generation manifest: one line, exit 1, the outputs untouched", async () => {
    expect((await gen()).code).toBe(0);
    const before = outTree();
    writeFileSync(
      join(box.root, "out/.ggen/manifest.json"),
      '{"kind": "generation-manifest/v1", "files": [,]}',
    );
    expectRefused(await gen("--vars", "greeting=Hi"), 1);
    writeFileSync(
      join(box.root, "out/.ggen/manifest.json"),
      JSON.stringify({ kind: "generation-manifest/v1", files: [{ path: "../outside/victim" }] }),
    );
    expectRefused(await gen("--vars", "greeting=Hi"), 1);
    expect(outTree()).toEqual(before);
    box.check();
    rmSync(join(box.root, "out/.ggen"), { recursive: true });
    await stillWorks();
  });

  it("a lock whose orphan reaches out through a link: --prune never deletes outside", async () => {
    writeFileSync(join(box.outside, "victim.txt"), "keep me\n");
    expect((await gen()).code).toBe(0);
    symlinkSync(box.outside, join(box.root, "out", "link"));
    const lockFile = join(box.root, "out/.ggen/manifest.json");
    const lock = JSON.parse(readFileSync(lockFile, "utf8"));
    const victim = (await import("node:crypto")).createHash("sha256").update("keep me\n").digest("hex");
    lock.orphans = [{ path: "link/victim.txt", generated: victim, template: "t/a.tmpl" }];
    writeFileSync(lockFile, JSON.stringify(lock));
    const r = await gen("--prune");
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(box.outside, "victim.txt"), "utf8")).toBe("keep me\n");
    rmSync(join(box.outside, "victim.txt"));
    rmSync(join(box.root, "out", "link"));
    box.check();
  });

  it("a tampered base (content not matching its digest) is not used: the edited file is left alone", async () => {
    expect((await gen()).code).toBe(0);
    const base = join(box.root, "out/.ggen/base");
    for (const d of readdirSync(base))
      for (const f of readdirSync(join(base, d))) writeFileSync(join(base, d, f), "not gzip at all");
    put("out/src/a.ts", `${get("out/src/a.ts")}// mine\n`);
    const r = await gen("--vars", "greeting=Hi");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/exists and differs; skipped/);
    expect(get("out/src/a.ts")).toContain("// mine\n");
    box.check();
    await stillWorks();
  });

  it("a file that is not UTF-8 text is never rewritten by a merge", async () => {
    expect((await gen()).code).toBe(0);
    const bytes = Buffer.concat([
      Buffer.from("// Hello\n"),
      Buffer.from([0xff, 0xfe, 0x00, 0x80]),
      Buffer.from("\n"),
    ]);
    writeFileSync(join(box.root, "out/src/a.ts"), bytes);
    const r = await gen("--vars", "greeting=Hi");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/not UTF-8 text/);
    expect(readFileSync(join(box.root, "out/src/a.ts")).equals(bytes)).toBe(true);
    box.check();
    await stillWorks();
  });

  it("fail-on-conflict: exit 1 naming the file, and nothing written at all", async () => {
    put("t/b.tmpl", "---\nto: b.txt\n---\n{{greeting}}\n");
    expect((await ggen("gen", "t", "-o", "out")).code).toBe(0);
    put("out/src/a.ts", get("out/src/a.ts").replace("// Hello", "// Mine"));
    const before = outTree();
    const lock = get("out/.ggen/manifest.json");
    const r = await ggen("gen", "t", "-o", "out", "--vars", "greeting=Hi", "--merge", "fail-on-conflict");
    expectRefused(r, 1);
    expect(r.stderr).toMatch(/src\/a\.ts/);
    expect(outTree()).toEqual(before);
    expect(get("out/.ggen/manifest.json")).toBe(lock);
    box.check();
  });

  it("plans: stale, escaping, lying or not a plan — refused, nothing written", async () => {
    expect((await gen()).code).toBe(0);
    expect((await gen("--vars", "greeting=Hi", "--plan", "plan.json")).code).toBe(0);
    const plan = JSON.parse(get("plan.json"));
    const before = outTree();
    // Changed since the plan: exit 1, naming the file.
    put("out/src/a.ts", `${get("out/src/a.ts")}// later\n`);
    const stale = await ggen("apply", "plan.json");
    expectRefused(stale, 1);
    expect(stale.stderr).toMatch(/changed since the plan was made: src\/a\.ts/);
    put("out/src/a.ts", before["src/a.ts"]!);
    // A path out of the output dir, a diff that does not give the promised content, not JSON.
    put("evil.json", JSON.stringify({ ...plan, files: [{ ...plan.files[0], path: "../outside/x" }] }));
    expectRefused(await ggen("apply", "evil.json"), 2);
    put("lie.json", JSON.stringify({ ...plan, files: [{ ...plan.files[0], next: "0".repeat(64) }] }));
    expectRefused(await ggen("apply", "lie.json"), 2);
    put("garbage.json", "\u001b[31mnot json");
    expectRefused(await ggen("apply", "garbage.json"), 2);
    expectRefused(await ggen("apply", "missing.json"), 2);
    expect(outTree()).toEqual(before);
    box.check();
    // The honest plan still applies.
    const ok = await ggen("apply", "plan.json");
    expect(ok.code, ok.stderr).toBe(0);
    expect(get("out/src/a.ts")).toMatch(/^\/\/ Hi\n/);
  });

  it("--plan into a directory, or a directory that does not exist: refused, nothing made", async () => {
    mkdirSync(join(box.root, "p.json"));
    expectRefused(await gen("--plan", "p.json"), 2);
    expectRefused(await gen("--plan", "no/such/dir/p.json"), 2);
    expect(readdirSync(box.root).sort()).toEqual(["p.json", "t"]);
    box.check();
  });
});
