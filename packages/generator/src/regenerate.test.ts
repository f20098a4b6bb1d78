// Regeneration with the user's edits: three-way merges against the base store, merge strategies,
// protected regions, orphans, delta-driven rendering, plans applied, and failures that write nothing.
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { assertValid, type GenerationManifest } from "@ggen/contract";
import { afterEach, describe, expect, it } from "vitest";
import { applyPlan } from "./apply.js";
import { stableJson } from "./delta.js";
import { type GenerateOptions, generate } from "./engine.js";
import { mergeLines } from "./merge.js";
import { parseRegions } from "./regions.js";
import { lineChanges, triplePatterns } from "./snapshot.js";
import { project, removeProjects, writeIn } from "./testkit.js";

afterEach(removeProjects);
const write = writeIn;
const read = (d: string, p: string) => readFileSync(join(d, p), "utf8");
const gen = (cwd: string, o: Omit<GenerateOptions, "cwd">) => generate({ cwd, outputDir: "out", ...o });
const lockOf = (d: string) => JSON.parse(read(d, "out/.ggen/manifest.json")) as GenerationManifest;
/** Every file under `root` (but .ggen) with its content. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === ".ggen") continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(dir, e.name), r);
      else out[r] = readFileSync(join(dir, e.name), "utf8");
    }
  };
  walk(root, "");
  return out;
}

// A service file: a header from `title`, fields from `fields`, a footer, and a protected region.
const service = `---
to: src/{{name}}.ts
vars:
  name: svc
  heading: Service
  fields: { type: list, default: [id] }
  footer: end
---
// {{heading}}
export interface Entity {
{{#each fields}}
  {{this}}: string;
{{/each}}
}

export function helper() {
  return 1;
}

// ggen:manual custom
// put your code here
// ggen:end

export const footer = "{{footer}}";
`;

describe("three-way regeneration", () => {
  it("merges non-overlapping edits cleanly and keeps them", async () => {
    const d = project({ "t/svc.tmpl": service });
    await gen(d, { templates: ["t/svc.tmpl"] });
    const edited = read(d, "out/src/svc.ts").replace("return 1;", "return 2; // mine");
    write(d, "out/src/svc.ts", edited);
    const r = await gen(d, { templates: ["t/svc.tmpl"], vars: { fields: "id,rating" } });
    expect(r.files[0]).toMatchObject({ action: "merged", reason: "your edits merged" });
    const now = read(d, "out/src/svc.ts");
    expect(now).toContain("return 2; // mine");
    expect(now).toContain("  rating: string;");
    expect(r.conflicts).toEqual([]);
    // The base is now the new render: regenerating again changes nothing.
    const again = await gen(d, { templates: ["t/svc.tmpl"], vars: { fields: "id,rating" } });
    expect(again.files[0]!.action).toBe("unchanged");
    expect(read(d, "out/src/svc.ts")).toBe(now);
  });

  it("leaves overlapping edits as conflict markers (three-way), or resolves them by strategy", async () => {
    const d = project({ "t/svc.tmpl": service });
    await gen(d, { templates: ["t/svc.tmpl"] });
    const mine = read(d, "out/src/svc.ts").replace("// Service", "// My service");
    write(d, "out/src/svc.ts", mine);
    const snapshot = join(d, "snapshot");
    cpSync(join(d, "out"), snapshot, { recursive: true });
    const restore = () => {
      rmSync(join(d, "out"), { recursive: true });
      cpSync(snapshot, join(d, "out"), { recursive: true });
    };
    const theirs = { heading: "Shop service" };
    const r = await gen(d, { templates: ["t/svc.tmpl"], vars: theirs });
    expect(r.conflicts).toEqual(["src/svc.ts"]);
    expect(r.files[0]).toMatchObject({ action: "conflict" });
    expect(read(d, "out/src/svc.ts")).toContain(
      "<<<<<<< yours (on disk)\n// My service\n||||||| generated before\n// Service\n=======\n// Shop service\n>>>>>>> generated now\n",
    );
    expect(lockOf(d).files[0]).toMatchObject({ action: "conflict", conflicts: 1 });
    restore();
    await gen(d, { templates: ["t/svc.tmpl"], vars: theirs, merge: "generated-wins" });
    expect(read(d, "out/src/svc.ts")).toMatch(/^\/\/ Shop service\n/);
    restore();
    await gen(d, { templates: ["t/svc.tmpl"], vars: theirs, merge: "manual-wins" });
    expect(read(d, "out/src/svc.ts")).toMatch(/^\/\/ My service\n/);
    restore();
    await gen(d, { templates: ["t/svc.tmpl"], vars: theirs, force: true });
    expect(read(d, "out/src/svc.ts")).toMatch(/^\/\/ Shop service\n/);
  });

  it("fail-on-conflict writes nothing at all, not even the files that merge cleanly", async () => {
    const d = project({ "t/svc.tmpl": service, "t/other.tmpl": "---\nto: other.txt\n---\n{{heading}}\n" });
    await gen(d, { templates: ["t"] });
    write(d, "out/src/svc.ts", read(d, "out/src/svc.ts").replace("// Service", "// Mine"));
    const before = tree(join(d, "out"));
    const lockBefore = read(d, "out/.ggen/manifest.json");
    await expect(
      gen(d, { templates: ["t"], vars: { heading: "Changed" }, merge: "fail-on-conflict" }),
    ).rejects.toMatchObject({
      code: "MERGE_CONFLICT",
      message: expect.stringMatching(/src\/svc\.ts.*nothing written/),
    });
    expect(tree(join(d, "out"))).toEqual(before);
    expect(read(d, "out/.ggen/manifest.json")).toBe(lockBefore);
  });

  it("mergeLines: clean, overlapping and identical changes", () => {
    expect(mergeLines("a\nb\nc\nd\ne\n", "a\nB\nc\nd\ne\n", "a\nb\nc\nd\nE\n", "three-way")).toEqual({
      content: "a\nB\nc\nd\nE\n",
      conflicts: 0,
    });
    expect(mergeLines("a\n", "x\n", "y\n", "manual-wins")).toEqual({ content: "x\n", conflicts: 1 });
    expect(mergeLines("a\n", "y\n", "y\n", "three-way")).toEqual({ content: "y\n", conflicts: 0 });
  });
});

describe("protected regions", () => {
  it("keep the user's lines byte for byte while the rest is regenerated, even with --force", async () => {
    const d = project({ "t/svc.tmpl": service });
    await gen(d, { templates: ["t/svc.tmpl"] });
    const mine = "  const x = 1;\t// tabs and trailing spaces  \n\n  export const y = x;\n";
    write(d, "out/src/svc.ts", read(d, "out/src/svc.ts").replace("// put your code here\n", mine));
    await gen(d, {
      templates: ["t/svc.tmpl"],
      vars: { fields: "id,name", footer: "fin" },
      force: true,
    });
    const now = read(d, "out/src/svc.ts");
    expect(now).toContain(`// ggen:manual custom\n${mine}// ggen:end\n`);
    expect(now).toContain('export const footer = "fin";');
    expect(now).toContain("  name: string;");
  });

  it("a region the template drops is reported, and an edited one conflicts instead of vanishing", async () => {
    const d = project({ "t/svc.tmpl": service });
    await gen(d, { templates: ["t/svc.tmpl"] });
    write(d, "out/src/svc.ts", read(d, "out/src/svc.ts").replace("// put your code here", "keep me"));
    write(
      d,
      "t/svc.tmpl",
      service.replace("// ggen:manual custom\n// put your code here\n// ggen:end\n", ""),
    );
    const warnings: string[] = [];
    const r = await gen(d, { templates: ["t/svc.tmpl"], onWarn: (w) => warnings.push(w) });
    expect(warnings.join("\n")).toMatch(/protected region 'custom' is no longer in the template/);
    expect(r.files[0]!.action).toBe("conflict");
    expect(read(d, "out/src/svc.ts")).toContain("keep me");
  });

  it("reads markers in the file's comment syntax, and the original's MANUAL form", () => {
    const sql = "-- ggen:manual extra\nCREATE INDEX i ON t (x);\n-- ggen:end\n";
    expect(parseRegions(sql, "schema.sql").regions.map((r) => [r.name, r.body])).toEqual([
      ["extra", "CREATE INDEX i ON t (x);\n"],
    ]);
    expect(parseRegions("# ggen:manual a\nx: 1\n# ggen:end\n", "c.yaml").regions).toHaveLength(1);
    expect(
      parseRegions("<!-- ggen:manual notes -->\nhi\n<!-- ggen:end -->\n", "README.md").regions,
    ).toHaveLength(1);
    // `#` is not a comment in TypeScript: not a marker there.
    expect(parseRegions("# ggen:manual a\nx\n# ggen:end\n", "a.ts").regions).toEqual([]);
    const legacy = parseRegions("// MANUAL: custom logic\nmine();\n// END MANUAL\n", "a.rs");
    expect(legacy.regions.map((r) => [r.name, r.body])).toEqual([["custom logic", "mine();\n"]]);
    expect(parseRegions("// ggen:manual a\n// ggen:manual b\n// ggen:end\n", "a.ts").problem).toMatch(
      /region inside region/,
    );
  });
});

// One file per item: removing an item leaves an orphan.
const perItem = `---
to: "items/{{item}}.txt"
for_each: items
vars:
  items: { type: list, default: [a, b, c] }
  suffix: "."
---
item {{item}}{{suffix}}
`;

describe("orphans", () => {
  it("are listed; --prune deletes unedited ones and keeps (and lists) edited ones", async () => {
    const d = project({ "t/item.tmpl": perItem });
    await gen(d, { templates: ["t/item.tmpl"], vars: { items: "a,b,c,d" } });
    write(d, "out/items/d.txt", "my notes\n");
    const listed = await gen(d, { templates: ["t/item.tmpl"], vars: { items: "a,b" } });
    expect(listed.orphans).toEqual([
      { path: "items/c.txt", template: "t/item.tmpl", edited: false, status: "kept" },
      { path: "items/d.txt", template: "t/item.tmpl", edited: true, status: "kept" },
    ]);
    expect(existsSync(join(d, "out/items/c.txt"))).toBe(true);
    expect(lockOf(d).orphans?.map((o) => o.path)).toEqual(["items/c.txt", "items/d.txt"]);
    const pruned = await gen(d, { templates: ["t/item.tmpl"], vars: { items: "a,b" }, prune: true });
    expect(pruned.orphans.map((o) => [o.path, o.status])).toEqual([
      ["items/c.txt", "deleted"],
      ["items/d.txt", "kept"],
    ]);
    expect(existsSync(join(d, "out/items/c.txt"))).toBe(false);
    expect(read(d, "out/items/d.txt")).toBe("my notes\n");
    expect(lockOf(d).orphans?.map((o) => o.path)).toEqual(["items/d.txt"]);
  });

  it("outputs of templates a run does not render are not orphans: their lock entries are kept", async () => {
    const d = project({ "t/item.tmpl": perItem, "u/one.tmpl": "---\nto: one.txt\n---\none\n" });
    await gen(d, { templates: ["t/item.tmpl"] });
    const r = await gen(d, { templates: ["u/one.tmpl"] });
    expect(r.orphans).toEqual([]);
    expect(
      lockOf(d)
        .files.map((f) => f.path)
        .sort(),
    ).toEqual(["items/a.txt", "items/b.txt", "items/c.txt", "one.txt"]);
  });
});

const byRow = `---
to: "items/{{local item}}.txt"
rdf: ../items.ttl
prefixes: { ex: "http://example.org/" }
for_each: "SELECT ?item ?label WHERE { ?item ex:label ?label } ORDER BY ?item"
vars:
  suffix: "."
---
item {{label}}{{suffix}}
`;
const items = (labels: string[]) =>
  `@prefix ex: <http://example.org/> .\n${labels.map((l, i) => `ex:i${i} ex:label "${l}" .`).join("\n")}\n`;

describe("delta-driven regeneration", () => {
  it("renders only outputs whose inputs changed, and counts the others", async () => {
    const d = project({ "t/item.tmpl": byRow, "items.ttl": items(["a", "b", "c"]) });
    const first = await gen(d, { templates: ["t/item.tmpl"] });
    expect([first.rendered, first.reused]).toEqual([3, 0]);
    const same = await gen(d, { templates: ["t/item.tmpl"] });
    expect([same.rendered, same.reused]).toEqual([0, 3]);
    write(d, "items.ttl", items(["a", "b", "x"]));
    const one = await gen(d, { templates: ["t/item.tmpl"] });
    expect([one.rendered, one.reused]).toEqual([1, 2]);
    expect(read(d, "out/items/i2.txt")).toBe("item x.\n");
    const all = await gen(d, { templates: ["t/item.tmpl"], vars: { suffix: "!" } });
    expect([all.rendered, all.reused]).toEqual([3, 0]);
    expect(read(d, "out/items/i0.txt")).toBe("item a!\n");
    // A deleted output whose inputs did not change comes back from the base store.
    rmSync(join(d, "out/items/i1.txt"));
    const back = await gen(d, { templates: ["t/item.tmpl"], vars: { suffix: "!" } });
    expect(back.reused).toBe(3);
    expect(back.files.find((f) => f.path === "items/i1.txt")!.action).toBe("created");
    expect(read(d, "out/items/i1.txt")).toBe("item b!\n");
    const full = await gen(d, { templates: ["t/item.tmpl"], vars: { suffix: "!" }, full: true });
    expect(full.rendered).toBe(3);
  });

  it("an edit to an output whose inputs did not change is kept and reported as the lock says; a change re-renders exactly what it affects", async () => {
    const d = project({ "t/item.tmpl": byRow, "items.ttl": items(["a", "b", "c"]) });
    await gen(d, { templates: ["t/item.tmpl"] });
    const generated = lockOf(d).files.find((f) => f.path === "items/i1.txt")!.generated!;
    write(d, "out/items/i1.txt", "item b, edited by hand.\n");
    // Inputs unchanged: nothing rendered, the edit kept and reported, the lock records the file as it is.
    const kept = await gen(d, { templates: ["t/item.tmpl"] });
    expect([kept.rendered, kept.reused]).toEqual([0, 3]);
    expect(kept.files.find((f) => f.path === "items/i1.txt")).toMatchObject({
      action: "unchanged",
      differs: true,
      reason: "your edits kept",
    });
    expect(kept.files.filter((f) => f.differs).map((f) => f.path)).toEqual(["items/i1.txt"]);
    const entry = lockOf(d).files.find((f) => f.path === "items/i1.txt")!;
    expect(entry.sha256).toBe(createHash("sha256").update("item b, edited by hand.\n").digest("hex"));
    expect(entry.generated).toBe(generated);
    expect((await gen(d, { templates: ["t/item.tmpl"], mode: "check" })).drift).toBe(true);
    // The graph changes one label: only its output is rendered; the edited one is untouched.
    write(d, "items.ttl", items(["a", "b", "z"]));
    const one = await gen(d, { templates: ["t/item.tmpl"] });
    expect([one.rendered, one.reused]).toEqual([1, 2]);
    expect(one.files.filter((f) => f.action !== "unchanged").map((f) => f.path)).toEqual(["items/i2.txt"]);
    expect(read(d, "out/items/i1.txt")).toBe("item b, edited by hand.\n");
    // The template changes: every output is rendered again, the edit merged three ways (it conflicts).
    write(d, "t/item.tmpl", byRow.replace("item {{label}}", "Item {{label}}"));
    const all = await gen(d, { templates: ["t/item.tmpl"] });
    expect([all.rendered, all.reused]).toEqual([3, 0]);
    expect(read(d, "out/items/i0.txt")).toBe("Item a.\n");
    expect(all.files.find((f) => f.path === "items/i1.txt")!.action).toBe("conflict");
  });

  it("digests values by stable JSON: JSON.stringify's text with keys sorted, whatever their order", () => {
    const a = {
      b: [1, "x", null, undefined, { z: true, y: -0 }],
      a: { d: new Date(0), c: undefined },
      e: "é\n",
    };
    const b = {
      e: "é\n",
      a: { c: undefined, d: new Date(0) },
      b: [1, "x", null, undefined, { y: -0, z: true }],
    };
    const sorted = { a: { d: new Date(0) }, b: [1, "x", null, null, { y: 0, z: true }], e: "é\n" };
    expect(stableJson(a)).toBe(JSON.stringify(sorted));
    expect(stableJson(b)).toBe(stableJson(a));
    expect(stableJson(null)).toBe("null");
    expect(stableJson({ x: 1 })).not.toBe(stableJson({ x: "1" }));
  });

  it("the lock records provenance per output and stays a valid manifest", async () => {
    const d = project({ "t/svc.tmpl": service });
    await gen(d, { templates: ["t/svc.tmpl"], vars: { db_password: "hunter2" } });
    const text = read(d, "out/.ggen/manifest.json");
    expect(text).not.toContain("hunter2");
    const m = assertValid("generation-manifest/v1", JSON.parse(text));
    expect(m.files[0]!.provenance).toMatchObject({
      template: expect.stringMatching(/^[0-9a-f]{64}$/),
      vars: expect.stringMatching(/^[0-9a-f]{64}$/),
      query: expect.stringMatching(/^[0-9a-f]{64}$/),
      inputs: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(m.files[0]!.generated).toBe(m.files[0]!.sha256);
    const blob = join(d, "out/.ggen/base", m.files[0]!.generated!.slice(0, 2), `${m.files[0]!.generated}.gz`);
    expect(existsSync(blob)).toBe(true);
  });
});

describe("plans", () => {
  it("a plan applied gives exactly what a real run gives; --dry-run and --diff show the same", async () => {
    const d = project({ "t/svc.tmpl": service, "t/item.tmpl": perItem });
    await gen(d, { templates: ["t"] });
    write(d, "out/src/svc.ts", read(d, "out/src/svc.ts").replace("return 1;", "return 2;"));
    write(d, "out/src/svc.ts", read(d, "out/src/svc.ts").replace("// Service", "// Mine"));
    const twin = project({});
    cpSync(d, twin, { recursive: true });
    const change: Omit<GenerateOptions, "cwd"> = {
      templates: ["t"],
      vars: { heading: "Shop", fields: "id,rating", items: "a,b" },
      prune: true,
    };
    const dry = await gen(d, { ...change, mode: "dry-run", diff: true });
    const planned = await gen(d, { ...change, plan: "plan.json" });
    expect(tree(join(d, "out"))).toEqual(tree(join(twin, "out"))); // planning wrote nothing
    const plan = assertValid("generation-plan/v1", JSON.parse(read(d, "plan.json")));
    expect(plan.summary).toMatchObject({ conflict: 1, "delete-orphan": 1, unchanged: 2 });
    expect(plan.files.find((f) => f.path === "items/c.txt")).toMatchObject({
      action: "delete-orphan",
      next: null,
    });
    const real = await gen(twin, change);
    expect(planned.files.map((f) => [f.path, f.action])).toEqual(real.files.map((f) => [f.path, f.action]));
    expect(dry.files.map((f) => f.diff)).toEqual(
      plan.files.filter((f) => f.action !== "delete-orphan").map((f) => f.diff),
    );
    await applyPlan("plan.json", { cwd: d });
    expect(tree(join(d, "out"))).toEqual(tree(join(twin, "out")));
    const a = lockOf(d);
    const b = JSON.parse(read(twin, "out/.ggen/manifest.json")) as GenerationManifest;
    expect(a.files).toEqual(b.files);
    expect(a.orphans).toEqual(b.orphans);
    // The applied lock serves the next regeneration like a real run's.
    const next = await gen(d, change);
    expect(next.files.every((f) => f.action === "unchanged" || f.action === "conflict")).toBe(true);
  });

  it("a plan keeps backup: true — apply writes the .bak files a direct run writes, byte for byte", async () => {
    const bak =
      "---\nto: keep/{{name}}.txt\nbackup: true\nvars: { name: k, body: one }\n---\n{{body}}\n2\n3\n4\n";
    const d = project({ "t/svc.tmpl": service, "t/bak.tmpl": bak });
    await gen(d, { templates: ["t"] });
    // One file edited by hand (merged, so backed up with the edit), one not; and a fresh output (nothing to keep).
    write(d, "out/keep/k.txt", "one\n2\n3\n4 mine\n");
    const twin = `${d}-twin`;
    cpSync(d, twin, { recursive: true });
    const change: Omit<GenerateOptions, "cwd"> = { templates: ["t"], vars: { body: "two", heading: "H" } };
    await gen(d, { ...change, plan: "plan.json" });
    const plan = assertValid("generation-plan/v1", JSON.parse(read(d, "plan.json")));
    expect(plan.files.find((f) => f.path === "keep/k.txt")).toMatchObject({ action: "update", backup: true });
    expect(plan.files.find((f) => f.path === "src/svc.ts")!.backup).toBeUndefined();
    await applyPlan("plan.json", { cwd: d });
    await gen(twin, change);
    expect(read(twin, "out/keep/k.txt.bak")).toBe("one\n2\n3\n4 mine\n");
    expect(read(twin, "out/keep/k.txt")).toBe("two\n2\n3\n4 mine\n");
    expect(tree(join(d, "out"))).toEqual(tree(join(twin, "out")));
    rmSync(twin, { recursive: true, force: true });
  });

  it("apply refuses, naming the files, when the disk changed since the plan, and writes nothing", async () => {
    const d = project({ "t/svc.tmpl": service, "t/item.tmpl": perItem });
    await gen(d, { templates: ["t"] });
    await gen(d, { templates: ["t"], vars: { heading: "New" }, plan: "plan.json" });
    write(d, "out/items/a.txt", "changed\n");
    const before = tree(join(d, "out"));
    await expect(applyPlan("plan.json", { cwd: d })).rejects.toMatchObject({
      code: "PLAN_STALE",
      message: expect.stringContaining("items/a.txt"),
    });
    expect(tree(join(d, "out"))).toEqual(before);
  });
});

describe("failure safety", () => {
  it("a manifest path that is a directory fails before any output is written", async () => {
    const d = project({ "t/svc.tmpl": service });
    mkdirSync(join(d, "m.json"));
    await expect(gen(d, { templates: ["t/svc.tmpl"], manifest: "m.json" })).rejects.toMatchObject({
      code: "MANIFEST_PATH",
    });
    expect(existsSync(join(d, "out"))).toBe(false);
  });

  it("a manifest in a directory that does not exist, outside the output dir, is refused and creates nothing", async () => {
    const d = project({ "t/svc.tmpl": service });
    await expect(
      gen(d, { templates: ["t/svc.tmpl"], manifest: "nowhere/deep/m.json" }),
    ).rejects.toMatchObject({
      code: "MANIFEST_PATH",
    });
    expect(existsSync(join(d, "nowhere"))).toBe(false);
    expect(existsSync(join(d, "out"))).toBe(false);
    // Inside the output dir its directories are made.
    await gen(d, { templates: ["t/svc.tmpl"], manifest: "out/meta/m.json" });
    expect(existsSync(join(d, "out/meta/m.json"))).toBe(true);
  });

  it("an output whose parent is a file fails before the other outputs are written", async () => {
    const d = project({ "t/a.tmpl": "---\nto: a.txt\n---\na\n", "t/b.tmpl": "---\nto: b/x.txt\n---\nb\n" });
    write(d, "out/b", "a file where a directory should be\n");
    await expect(gen(d, { templates: ["t"] })).rejects.toMatchObject({ code: "OUTPUT_PARENT" });
    expect(tree(join(d, "out"))).toEqual({ b: "a file where a directory should be\n" });
    expect(existsSync(join(d, "out/.ggen"))).toBe(false);
  });
});

// A graph of people, teams and "reportsTo" chains, as N-Triples, edited at random between regenerations.
const EX = "http://example.org/";
const nt = (s: string, p: string, o: string) => `<${EX}${s}> <${EX}${p}> ${o} .`;
function randomGraph(rand: () => number, n: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(nt(`p${i}`, "type", `<${EX}Person>`));
    lines.push(nt(`p${i}`, "name", `"Person ${i}"`));
    if (rand() < 0.7) lines.push(nt(`p${i}`, "team", `<${EX}t${Math.floor(rand() * 4)}>`));
    if (i > 0 && rand() < 0.6) lines.push(nt(`p${i}`, "reportsTo", `<${EX}p${Math.floor(rand() * i)}>`));
    if (rand() < 0.3) lines.push(nt(`p${i}`, "nick", `"n${i} . # not a comment"`));
  }
  for (let t = 0; t < 4; t++) lines.push(nt(`t${t}`, "label", `"Team ${t}"`));
  return lines;
}
function edit(rand: () => number, lines: string[]): string[] {
  const out = [...lines];
  const k = 1 + Math.floor(rand() * 3);
  for (let j = 0; j < k; j++) {
    const r = rand();
    const i = Math.floor(rand() * out.length);
    if (r < 0.35) out.splice(i, 1);
    else if (r < 0.7)
      out.push(
        nt(
          `p${Math.floor(rand() * 30)}`,
          ["nick", "team", "reportsTo", "label"][j % 4]!,
          `"x${Math.floor(rand() * 99)}"`,
        ),
      );
    else out.push(nt(`p${Math.floor(rand() * 30)}`, "team", `<${EX}t${Math.floor(rand() * 5)}>`));
  }
  return out;
}
const people = `---
to: "people/{{local p}}.txt"
rdf: ../g.nt
prefixes: { ex: "http://example.org/" }
for_each: "SELECT ?p ?name WHERE { ?p ex:type ex:Person ; ex:name ?name } ORDER BY ?p ?name"
sparql:
  teams: "SELECT ?p ?t ?label WHERE { ?p ex:team ?t . OPTIONAL { ?t ex:label ?label } } ORDER BY ?p ?t ?label"
  chain: "SELECT ?p (COUNT(?boss) AS ?n) WHERE { ?p ex:type ex:Person . OPTIONAL { ?p ex:reportsTo+ ?boss } } GROUP BY ?p ORDER BY ?p"
  loners: "SELECT ?p WHERE { ?p ex:type ex:Person FILTER NOT EXISTS { ?p ex:team ?any } } ORDER BY ?p"
---
{{name}}{{#each (where sparql.teams "p" p)}} team={{local t}}{{#if label}} ({{label}}){{/if}}{{/each}}
{{#each (where sparql.chain "p" p)}}bosses={{n}}{{/each}}
loner={{#each (where sparql.loners "p" p)}}yes{{/each}}
`;
const summary = `---
to: summary.txt
rdf: ../g.nt
prefixes: { ex: "http://example.org/" }
sparql:
  all: "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
  nicks: "SELECT ?p ?nick WHERE { ?p ex:nick ?nick } ORDER BY ?p ?nick"
---
triples={{#each sparql.all}}{{n}}{{/each}}
{{#each sparql.nicks}}{{local p}}={{nick}}
{{/each}}{{#each (sparql "SELECT ?t WHERE { ?t ex:label ?l } ORDER BY ?t")}}{{local t}} {{/each}}
`;

describe("graph snapshots (regenerating after a graph change without loading it whole)", () => {
  // Two dozen generations: minutes when the machine is busy.
  it("give exactly what a full generation gives, over many random edits", { timeout: 240_000 }, async () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    let lines = randomGraph(rand, 40);
    const d = project({
      "t/people.tmpl": people,
      "t/summary.tmpl": summary,
      "g.nt": `${lines.join("\n")}\n`,
    });
    await gen(d, { templates: ["t"] });
    const used = { reusedQueries: 0, subgraphQueries: 0 };
    for (let round = 0; round < 12; round++) {
      lines = edit(rand, lines);
      write(d, "g.nt", `${lines.join("\n")}\n`);
      const delta = await gen(d, { templates: ["t"], prune: true });
      used.reusedQueries += delta.snapshot?.reusedQueries ?? 0;
      used.subgraphQueries += delta.snapshot?.subgraphQueries ?? 0;
      const fresh = project({ "t/people.tmpl": people, "t/summary.tmpl": summary, "g.nt": read(d, "g.nt") });
      await gen(fresh, { templates: ["t"] });
      expect(tree(join(d, "out")), `round ${round}`).toEqual(tree(join(fresh, "out")));
    }
    // The rounds did answer queries without the whole graph (else this test proves nothing).
    expect(used.reusedQueries).toBeGreaterThan(0);
    expect(used.subgraphQueries).toBeGreaterThan(0);
  });
});

describe("graph snapshots answering on a subgraph while templates render", () => {
  // `names` waits for its for_each's subgraph answer; `census` then also needs the whole graph (?s ?p ?o);
  // `teams` asks nothing the change touches.
  /** A template over g.nt with the ex: prefix: its `to`, the rest of its frontmatter, its body. */
  const overG = (to: string, front: string, body: string) =>
    `---\nto: ${to}\nrdf: ../g.nt\nprefixes: { ex: "http://example.org/" }\n${front}---\n${body}\n`;
  const names = overG(
    '"names/{{local p}}.txt"',
    'for_each: "SELECT ?p ?name WHERE { ?p ex:type ex:Person ; ex:name ?name } ORDER BY ?p"\n',
    "{{name}}",
  );
  const census = overG(
    "census.txt",
    'sparql:\n  named: "SELECT ?p ?name WHERE { ?p ex:name ?name } ORDER BY ?p"\n  all: "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"\n',
    "{{#each sparql.named}}{{name}};{{/each}} triples={{#each sparql.all}}{{n}}{{/each}}",
  );
  const teams = overG(
    "teams.txt",
    'sparql:\n  labels: "SELECT ?t ?label WHERE { ?t ex:label ?label } ORDER BY ?t"\n',
    "{{#each sparql.labels}}{{label}} {{/each}}",
  );
  const templates = { "t/names.tmpl": names, "t/census.tmpl": census, "t/teams.tmpl": teams };

  it("render what a full generation renders, once the answers (and the whole graph) are in", async () => {
    let lines = randomGraph(() => 0.5, 12);
    const d = project({ ...templates, "g.nt": `${lines.join("\n")}\n` });
    await gen(d, { templates: ["t"] });
    lines = lines.map((l) => l.replace('"Person 3"', '"Person three"'));
    write(d, "g.nt", `${lines.join("\n")}\n`);
    const delta = await gen(d, { templates: ["t"] });
    expect(delta.snapshot?.subgraphQueries).toBeGreaterThan(0);
    expect(delta.snapshot?.reusedQueries).toBeGreaterThan(0);
    expect(delta.snapshot?.fullLoads).toBe(1);
    expect(delta.files.filter((f) => f.action !== "unchanged").map((f) => f.path)).toEqual([
      "census.txt",
      "names/p3.txt",
    ]);
    const fresh = project({ ...templates, "g.nt": read(d, "g.nt") });
    await gen(fresh, { templates: ["t"] });
    expect(tree(join(d, "out"))).toEqual(tree(join(fresh, "out")));
    expect(read(d, "out/names/p3.txt")).toBe("Person three\n");
  });

  it("the stored results keep each asked query's triple patterns (what the next run matches changes with)", async () => {
    const lines = randomGraph(() => 0.5, 6);
    const d = project({ ...templates, "g.nt": `${lines.join("\n")}\n` });
    await gen(d, { templates: ["t"] });
    const key = lockOf(d).inputs.results![0]!.key;
    const stored = JSON.parse(
      gunzipSync(readFileSync(join(d, "out/.ggen/base/results", `${key}.json.gz`))).toString("utf8"),
    ) as { rows: Record<string, unknown>; patterns: Record<string, unknown> };
    const queries = Object.keys(stored.rows);
    expect(queries.length).toBe(4);
    // Patterns are read when a change is matched against them: after one, every asked query has its own.
    write(d, "g.nt", `${lines.map((l) => l.replace('"Person 2"', '"Person two"')).join("\n")}\n`);
    await gen(d, { templates: ["t"] });
    const key2 = lockOf(d).inputs.results![0]!.key;
    const again = JSON.parse(
      gunzipSync(readFileSync(join(d, "out/.ggen/base/results", `${key2}.json.gz`))).toString("utf8"),
    ) as { rows: Record<string, unknown>; patterns: Record<string, unknown> };
    for (const q of Object.keys(again.rows)) expect(again.patterns[q], q).toEqual(triplePatterns(q) ?? null);
  });
});

describe("lineChanges (what a graph change added and removed, without splitting the whole texts)", () => {
  it("equals comparing every line, for edits anywhere, moved and repeated lines", () => {
    let seed = 3;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const pick = (n: number) => Math.floor(rand() * n);
    for (let round = 0; round < 300; round++) {
      const before = Array.from({ length: 1 + pick(40) }, () => `<s${pick(30)}> <p> "${pick(9)}" .`);
      const after = [...before];
      for (let k = pick(4); k >= 0; k--) {
        const r = rand();
        if (r < 0.3 && after.length) after.splice(pick(after.length), 1);
        else if (r < 0.6) after.splice(pick(after.length + 1), 0, `<s${pick(40)}> <p> "${pick(9)}" .`);
        else if (after.length)
          after.splice(pick(after.length + 1), 0, after.splice(pick(after.length), 1)[0]!);
      }
      if (rand() < 0.2) after.push("# a comment", "");
      const a = `${before.join("\n")}${rand() < 0.5 ? "\n" : ""}`;
      const b = `${after.join("\n")}${rand() < 0.5 ? "\n" : ""}`;
      const lines = (t: string) =>
        new Set(t.split("\n").filter((l) => l.trim() && !l.trim().startsWith("#")));
      const [A, B] = [lines(a), lines(b)];
      const got = lineChanges(a, b);
      expect([got.added.sort(), got.removed.sort()], `round ${round}`).toEqual([
        [...B].filter((l) => !A.has(l)).sort(),
        [...A].filter((l) => !B.has(l)).sort(),
      ]);
    }
  });
});

describe("lineChanges on UTF-8 bytes", () => {
  it("finds whole changed lines next to multi-byte characters, from strings or bytes alike", () => {
    const word = ["é", "名前", "😀", "a", "ß"];
    let seed = 11;
    const pick = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return Math.floor((seed / 0x7fffffff) * n);
    };
    for (let round = 0; round < 200; round++) {
      const line = () => `<s${pick(9)}> <p> "${word[pick(5)]}${word[pick(5)]}" .`;
      const before = Array.from({ length: 1 + pick(20) }, line);
      const after = [...before];
      after.splice(pick(after.length + 1), pick(2), line());
      const a = `${before.join("\n")}\n`;
      const b = `${after.join("\n")}\n`;
      const [A, B] = [new Set(before), new Set(after)];
      const want = [[...B].filter((l) => !A.has(l)).sort(), [...A].filter((l) => !B.has(l)).sort()];
      const fromText = lineChanges(a, b);
      const fromBytes = lineChanges(Buffer.from(a), Buffer.from(b));
      expect([fromText.added.sort(), fromText.removed.sort()], `round ${round}`).toEqual(want);
      expect([fromBytes.added.sort(), fromBytes.removed.sort()], `round ${round}`).toEqual(want);
    }
  });
});

describe("graph snapshots of Turtle graphs", () => {
  // The same graph as Turtle, its IRIs written with the file's prefix; the template takes `ex:` from the file.
  const turtle = (lines: string[]) =>
    `@prefix ex: <${EX}> .\n${lines.map((l) => l.replaceAll(/<http:\/\/example\.org\/([^>]*)>/g, "ex:$1")).join("\n")}\n`;
  const asTurtle = (t: string) =>
    t.replace("rdf: ../g.nt", "rdf: ../g.ttl").replace('prefixes: { ex: "http://example.org/" }\n', "");
  const templates = { "t/people.tmpl": asTurtle(people), "t/summary.tmpl": asTurtle(summary) };

  // Two dozen generations: minutes when the machine is busy.
  it("give exactly what a full generation gives; a graph with blank nodes is queried whole, and the run says so", {
    timeout: 240_000,
  }, async () => {
    let seed = 5;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    let lines = randomGraph(rand, 40);
    const d = project({ ...templates, "g.ttl": turtle(lines) });
    await gen(d, { templates: ["t"] });
    const used = { reusedQueries: 0, subgraphQueries: 0 };
    const regenerate = async (text: string) => {
      write(d, "g.ttl", text);
      const r = await gen(d, { templates: ["t"], prune: true });
      const fresh = project({ ...templates, "g.ttl": text });
      await gen(fresh, { templates: ["t"] });
      expect(tree(join(d, "out"))).toEqual(tree(join(fresh, "out")));
      return r;
    };
    for (let round = 0; round < 12; round++) {
      lines = edit(rand, lines);
      const r = await regenerate(turtle(lines));
      expect(r.warnings).toEqual([]);
      used.reusedQueries += r.snapshot!.reusedQueries;
      used.subgraphQueries += r.snapshot!.subgraphQueries;
    }
    expect(used.reusedQueries).toBeGreaterThan(0);
    expect(used.subgraphQueries).toBeGreaterThan(0);
    // A blank node: no label of it survives an edit, so the graph is loaded whole — said in one line.
    const blank = await regenerate(`${turtle(lines)}ex:p1 ex:team [ ex:label "anonymous" ] .\n`);
    expect(blank.snapshot).toMatchObject({ reusedQueries: 0, subgraphQueries: 0 });
    expect(blank.warnings).toEqual([
      "g.ttl: changed; queried whole, not from the last generation's snapshot (it has blank nodes; snapshots read N-Triples and Turtle without blank nodes)",
    ]);
  });
});

describe("stored query results (checked against the lock's digests before use)", () => {
  const resultFiles = (d: string) => {
    const dir = join(d, "out/.ggen/base/results");
    return readdirSync(dir).map((f) => join(dir, f));
  };
  it("are named in the lock; a tampered or missing one is noticed and the graph queried whole", async () => {
    let seed = 11;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const lines = randomGraph(rand, 30);
    const d = project({ "t/people.tmpl": people, "g.nt": `${lines.join("\n")}\n` });
    await gen(d, { templates: ["t"] });
    const [file] = resultFiles(d);
    const text = gunzipSync(readFileSync(file!)).toString("utf8");
    expect(lockOf(d).inputs.results).toEqual([
      { key: basename(file!, ".json.gz"), sha256: createHash("sha256").update(text).digest("hex") },
    ]);
    // Each round adds a triple no query of the template reads: its stored rows answer every query.
    let round = 0;
    const regenerate = async (notice: RegExp | undefined) => {
      lines.push(nt(`p${round++}`, "nick", `"added ${round}"`));
      write(d, "g.nt", `${lines.join("\n")}\n`);
      const r = await gen(d, { templates: ["t"] });
      const fresh = project({ "t/people.tmpl": people, "g.nt": read(d, "g.nt") });
      await gen(fresh, { templates: ["t"] });
      expect(tree(join(d, "out"))).toEqual(tree(join(fresh, "out")));
      const notices = r.warnings.filter((w) => w.includes("stored query results"));
      expect(notices).toEqual(notice ? [expect.stringMatching(notice)] : []);
      return r.snapshot!;
    };
    expect(await regenerate(undefined)).toMatchObject({ fullLoads: 0, reusedQueries: 4 });
    // Rows that lie (nobody in the graph) must never reach an output.
    const rows = JSON.parse(gunzipSync(readFileSync(resultFiles(d)[0]!)).toString("utf8"));
    for (const k of Object.keys(rows)) rows[k] = [];
    writeFileSync(resultFiles(d)[0]!, gzipSync(JSON.stringify(rows)));
    expect(await regenerate(/^g\.nt: the stored query results do not match the lock/)).toMatchObject({
      fullLoads: 1,
      reusedQueries: 0,
    });
    // That run kept its own rows with their digest: the next one uses them again.
    expect(await regenerate(undefined)).toMatchObject({ fullLoads: 0, reusedQueries: 4 });
    rmSync(resultFiles(d)[0]!);
    expect(
      await regenerate(/^g\.nt: the stored query results of the last generation are missing/),
    ).toMatchObject({
      fullLoads: 1,
      reusedQueries: 0,
    });
    // A lock from before the digests (revision 1.0) still reads; its stored rows are not trusted.
    const lock = lockOf(d);
    delete lock.inputs.results;
    write(d, "out/.ggen/manifest.json", JSON.stringify(lock));
    expect(await regenerate(undefined)).toMatchObject({ fullLoads: 1, reusedQueries: 0 });
  });
});

describe("query results kept in the cache dir (by the digests of the graph texts)", () => {
  // A Turtle graph with blank nodes (no diff can read it) and queries no pattern reading covers.
  const graph = `@prefix ex: <http://example.org/> .
ex:ada ex:type ex:Person ; ex:name "Ada" ; ex:team [ ex:label "core" ] .
ex:bob ex:type ex:Person ; ex:name "Bob" ; ex:reportsTo ex:ada .
`;
  const tmpl = (sparql: Record<string, string>) => `---
to: out.txt
rdf: ../g.ttl
prefixes: { ex: "http://example.org/" }
sparql:
${Object.entries(sparql)
  .map(([k, q]) => `  ${k}: ${JSON.stringify(q)}`)
  .join("\n")}
---
{{#each sparql.people}}{{name}}={{n}} {{/each}}{{#each sparql.volatile}}{{r}}{{/each}}
`;
  const queries = {
    people: `SELECT ?name (COUNT(?boss) AS ?n) WHERE { ?p ex:name ?name . OPTIONAL { ?p ex:reportsTo ?boss } } GROUP BY ?name ORDER BY ?name`,
  };
  const cacheFiles = (cache: string) =>
    existsSync(join(cache, "results")) ? readdirSync(join(cache, "results")) : [];

  it("answer a new project's queries from a graph with blank nodes without loading it; a changed text loads it", async () => {
    const cache = project({});
    const first = project({ "t/a.tmpl": tmpl(queries), "g.ttl": graph });
    const r1 = await gen(first, { templates: ["t"], cacheDir: cache });
    expect(r1.snapshot).toMatchObject({ fullLoads: 1, reusedQueries: 0 });
    expect(cacheFiles(cache)).toHaveLength(1);

    const second = project({ "t/a.tmpl": tmpl(queries), "g.ttl": graph });
    const r2 = await gen(second, { templates: ["t"], cacheDir: cache });
    expect(r2.snapshot).toMatchObject({ fullLoads: 0, reusedQueries: 1 });
    expect(tree(join(second, "out"))).toEqual(tree(join(first, "out")));
    expect(read(second, "out/out.txt")).toBe("Ada=0 Bob=1 \n");
    // What the run keeps is the same whether it loaded the graph or not.
    const kept = (d: string) =>
      readdirSync(join(d, "out/.ggen/base"), { recursive: true }).map(String).sort();
    expect(kept(second)).toEqual(kept(first));
    expect(lockOf(second).inputs.results).toEqual(lockOf(first).inputs.results);

    // Another text (one triple more): its own key, nothing kept for it, the graph is loaded.
    const third = project({
      "t/a.tmpl": tmpl(queries),
      "g.ttl": `${graph}ex:cy ex:type ex:Person ; ex:name "Cy" ; ex:reportsTo ex:bob .\n`,
    });
    const r3 = await gen(third, { templates: ["t"], cacheDir: cache });
    expect(r3.snapshot).toMatchObject({ fullLoads: 1, reusedQueries: 0 });
    expect(read(third, "out/out.txt")).toBe("Ada=0 Bob=1 Cy=1 \n");
    expect(cacheFiles(cache)).toHaveLength(2);

    // A query the kept rows lack: the graph is loaded for it, and the set is kept again with it.
    const more = { ...queries, teams: "SELECT ?label WHERE { ?p ex:team ?t . ?t ex:label ?label }" };
    const fourth = project({ "t/a.tmpl": tmpl(more), "g.ttl": graph });
    expect((await gen(fourth, { templates: ["t"], cacheDir: cache })).snapshot).toMatchObject({
      fullLoads: 1,
    });
    const fifth = project({ "t/a.tmpl": tmpl(more), "g.ttl": graph });
    expect((await gen(fifth, { templates: ["t"], cacheDir: cache })).snapshot).toMatchObject({
      fullLoads: 0,
      reusedQueries: 2,
    });
  });

  it("keep a first generation's rows, not a regeneration's (those stay in the project)", async () => {
    const cache = project({});
    const nt = (name: string) =>
      `<http://example.org/ada> <http://example.org/name> "${name}" .\n<http://example.org/ada> <http://example.org/type> <http://example.org/Person> .\n`;
    const named = `---
to: out.txt
rdf: ../g.nt
sparql:
  names: "SELECT ?n WHERE { ?p <http://example.org/name> ?n }"
---
{{#each sparql.names}}{{n}}{{/each}}
`;
    const d = project({ "t/a.tmpl": named, "g.nt": nt("Ada") });
    await gen(d, { templates: ["t"], cacheDir: cache });
    expect(cacheFiles(cache)).toHaveLength(1);
    write(d, "g.nt", nt("Ada L."));
    const r = await gen(d, { templates: ["t"], cacheDir: cache });
    expect(read(d, "out/out.txt")).toBe("Ada L.\n");
    expect(r.snapshot!.fullLoads + r.snapshot!.subgraphQueries).toBe(1);
    expect(cacheFiles(cache)).toHaveLength(1);
  });

  it("do not stand in for a project's own rows that do not match its lock (the run queries whole, as it says)", async () => {
    const cache = project({});
    const d = project({ "t/a.tmpl": tmpl(queries), "g.ttl": graph });
    await gen(d, { templates: ["t"], cacheDir: cache });
    expect(cacheFiles(cache)).toHaveLength(1);
    const dir = join(d, "out/.ggen/base/results");
    const [file] = readdirSync(dir);
    writeFileSync(join(dir, file!), gzipSync(JSON.stringify({ triples: 0, rows: {} })));
    const r = await gen(d, { templates: ["t"], cacheDir: cache });
    expect(r.warnings).toEqual([expect.stringMatching(/the stored query results do not match the lock/)]);
    expect(r.snapshot).toMatchObject({ fullLoads: 1, reusedQueries: 0 });
    expect(read(d, "out/out.txt")).toBe("Ada=0 Bob=1 \n");
  });

  it("never answer a query that is not a function of the graph, nor keep rows holding a blank node", async () => {
    const cache = project({});
    const volatile = { ...queries, volatile: "SELECT (STRLEN(STRUUID()) AS ?r) WHERE {}" };
    for (let i = 0; i < 2; i++) {
      const d = project({ "t/a.tmpl": tmpl(volatile), "g.ttl": graph });
      const r = await gen(d, { templates: ["t"], cacheDir: cache });
      // The second project reuses the people rows and asks STRUUID() again, on the loaded graph.
      expect(r.snapshot).toMatchObject(
        i === 0 ? { fullLoads: 1, reusedQueries: 0 } : { fullLoads: 1, reusedQueries: 1 },
      );
      expect(read(d, "out/out.txt")).toBe("Ada=0 Bob=1 36\n");
    }
    const blank = project({
      "t/a.tmpl": tmpl({ ...queries, teams: "SELECT ?t WHERE { ?p ex:team ?t }" }),
      "g.ttl": graph,
    });
    const other = project({});
    await gen(blank, { templates: ["t"], cacheDir: other });
    expect(cacheFiles(other)).toEqual([]);
  });
});
