// `ggen graph diff old new` (triples added and removed) and `--impact` (which generated outputs of the
// manifest would change on the new graph), through the built program.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "dist", "bin.js");
const d = mkdtempSync(join(tmpdir(), "ggen-graph-diff-"));
afterAll(() => rmSync(d, { recursive: true, force: true }));
const put = (rel: string, text: string) => {
  mkdirSync(dirname(join(d, rel)), { recursive: true });
  writeFileSync(join(d, rel), text);
};
const ggen = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, "--cwd", d, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

const people = (names: string[]) =>
  `@prefix ex: <http://example.org/> .\n${names.map((n) => `ex:${n} a ex:Person ; ex:name "${n}" .`).join("\n")}\n`;

describe("ggen graph diff", () => {
  it("lists triples added and removed; --impact lists the outputs that would change", () => {
    put("old.ttl", people(["ann", "bob"]));
    put("new.ttl", people(["ann", "cy"]));
    put(
      "t/person.tmpl",
      `---
to: "people/{{name}}.txt"
for_each: "SELECT ?name WHERE { ?p a ex:Person ; ex:name ?name } ORDER BY ?name"
prefixes: { ex: "http://example.org/" }
---
{{name}}
`,
    );
    put("t/count.tmpl", "---\nto: count.txt\n---\nstatic\n");
    const gen = ggen("gen", "t", "--graph", "old.ttl", "-o", "out");
    expect(gen.status, gen.stderr).toBe(0);
    const r = ggen("graph", "diff", "old.ttl", "new.ttl");
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('- <http://example.org/bob> <http://example.org/name> "bob" .');
    expect(r.stdout).toContain('+ <http://example.org/cy> <http://example.org/name> "cy" .');
    expect(r.stdout).toMatch(/^2 added, 2 removed$/m);
    const j = ggen("--json", "graph", "diff", "old.ttl", "new.ttl", "--impact", "-o", "out");
    expect(j.status, j.stderr).toBe(0);
    const v = JSON.parse(j.stdout) as { added: string[]; removed: string[]; impact: unknown[] };
    expect([v.added.length, v.removed.length]).toEqual([2, 2]);
    expect(v.impact).toEqual([
      { path: "people/bob.txt", change: "removed", template: "t/person.tmpl" },
      { path: "people/cy.txt", change: "added", template: "t/person.tmpl" },
    ]);
    // The manifest alone names its output dir; a manifest of another dir is said to be one.
    const impactOf = (...extra: string[]) =>
      ggen(
        "graph",
        "diff",
        "old.ttl",
        "new.ttl",
        "--impact",
        "--manifest",
        "out/.ggen/manifest.json",
        ...extra,
      );
    const m = impactOf("--json");
    expect(m.status, m.stderr).toBe(0);
    expect((JSON.parse(m.stdout) as { impact: unknown[] }).impact).toEqual(v.impact);
    const other = impactOf("-o", "t");
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(
      /^ggen: error: out\/\.ggen\/manifest\.json describes another output dir \(out\)/,
    );
    const unread = ggen("graph", "diff", "old.ttl", "new.ttl", "-o", "out");
    expect(unread.status).toBe(2);
    expect(unread.stderr).toMatch(/^ggen: error: --output-dir is read only with --impact/);
    // A dry run: nothing was written.
    expect(readFileSync(join(d, "out/people/bob.txt"), "utf8")).toBe("bob\n");
    expect(ggen("graph", "diff", "old.ttl", "old.ttl").stdout).toMatch(/^0 added, 0 removed$/m);
  });

  it("a graph that is not RDF is one line, exit 1", () => {
    put("bad.ttl", "this is not turtle\n");
    const r = ggen("graph", "diff", "old.ttl", "bad.ttl");
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^ggen: error: bad\.ttl/);
  });
});
