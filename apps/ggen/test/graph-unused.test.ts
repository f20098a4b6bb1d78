// `--graph` given to templates that read no graph (no query, no sparql helper): refused out loud before
// the graph is parsed or anything is written — in a generation, --plan and --diff alike. A run where one
// template reads it is unchanged.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";

vi.setConfig({ testTimeout: 60_000 });

const repo = join(import.meta.dirname, "..", "..", "..");
const bin = join(import.meta.dirname, "..", "dist", "bin.js");
const rustLib = join(repo, "fixtures", "registry", "packs", "io.ggen.rust-lib");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function project(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), "ggen-cli-graph-unused-"));
  dirs.push(d);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(d, p)), { recursive: true });
    writeFileSync(join(d, p), text);
  }
  return d;
}
const ggen = (cwd: string, ...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });

// A real vocabulary's shape (FOAF as N-Quads), but not valid RDF: parsing it would fail differently.
const foaf = "<http://xmlns.com/foaf/0.1/Person> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> !!! .\n";

describe("ggen template generate --graph", () => {
  it("refuses a pack none of whose templates reads a graph: exit 2, one line, nothing written", () => {
    const d = project({ "foaf.nq": foaf });
    for (const extra of [[], ["--plan", "plan.json"], ["--diff", "--dry-run"]]) {
      const r = ggen(d, "template", "generate", rustLib, "--graph", "foaf.nq", "-o", "out", ...extra);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split("\n")).toEqual([
        "ggen: error: --graph foaf.nq: no template of io.ggen.rust-lib reads a graph (no query, no sparql helper) (leave out --graph, or use a pack that queries one)",
      ]);
      expect(r.stdout).toBe("");
    }
    expect(readdirSync(d)).toEqual(["foaf.nq"]);
  });

  it("still generates the same pack without --graph", () => {
    const d = project({});
    const r = ggen(d, "template", "generate", rustLib, "-o", "out", "--vars", "name=demo");
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(d, "out", "Cargo.toml"))).toBe(true);
  });

  it("keeps a run where one template reads the graph", () => {
    const d = project({
      "t/plain.tmpl": "---\nto: plain.txt\n---\nplain\n",
      "t/people.tmpl":
        '---\nto: people.txt\n---\n{{#each (sparql "SELECT ?s WHERE { ?s a <http://xmlns.com/foaf/0.1/Person> }")}}{{s}}\n{{/each}}',
      "people.nq":
        "<http://ex.org/ann> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://xmlns.com/foaf/0.1/Person> .\n",
    });
    const r = ggen(d, "template", "batch-generate", "t", "--graph", "people.nq", "-o", "out");
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(join(d, "out")).sort()).toEqual(expect.arrayContaining(["people.txt", "plain.txt"]));
  });
});
