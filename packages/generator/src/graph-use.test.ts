import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { generate } from "./engine.js";
import { readsGraph } from "./graph-use.js";
import { impactOf } from "./impact.js";
import { loadTemplate } from "./resolve.js";
import { project, removeProjects } from "./testkit.js";

afterEach(removeProjects);

const plain = "---\nto: a.txt\n---\nhello {{name}}\n";
const queries = '---\nto: b.txt\n---\n{{#each (sparql "SELECT ?s WHERE { ?s ?p ?o }")}}{{s}}\n{{/each}}';
// Not Turtle: a graph that were parsed would fail with a parse error, not GRAPH_UNUSED.
const garbage = "this is not turtle @@@";

async function failure(p: Promise<unknown>): Promise<{ code: string; kind: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as never;
  }
  throw new Error("expected a failure");
}

describe("a --graph no template reads", () => {
  it("is refused before the graph is parsed or anything is written, also with --plan", async () => {
    const d = project({ "t/plain.tmpl": plain, "g.ttl": garbage });
    for (const extra of [{}, { plan: "plan.json" }, { mode: "check" as const, diff: true }]) {
      const e = await failure(
        generate({ cwd: d, outputDir: "out", templates: ["t/plain.tmpl"], graphs: ["g.ttl"], ...extra }),
      );
      expect(e.code).toBe("GRAPH_UNUSED");
      expect(e.kind).toBe("usage");
      expect(e.message).toBe(
        "--graph g.ttl: t/plain.tmpl reads no graph (no query, no sparql helper); leave out --graph, or use a template that queries one",
      );
    }
    expect(existsSync(join(d, "out"))).toBe(false);
    expect(existsSync(join(d, "plan.json"))).toBe(false);
    expect(readdirSync(d).sort()).toEqual(["g.ttl", "t"]);
  });

  it("names how many templates none of which reads it", async () => {
    const d = project({ "t/a.tmpl": plain, "t/b.tmpl": plain.replace("a.txt", "b.txt"), "g.ttl": garbage });
    const e = await failure(generate({ cwd: d, outputDir: "out", templates: ["t"], graphs: ["g.ttl"] }));
    expect(e.message).toMatch(/^--graph g\.ttl: none of the 2 templates reads a graph/);
  });

  it("changes nothing when one template of the run reads it, or when no --graph is given", async () => {
    const d = project({
      "t/a.tmpl": plain,
      "t/b.tmpl": queries,
      "g.ttl": "<http://x/a> <http://x/p> <http://x/b> .\n",
    });
    const r = await generate({
      cwd: d,
      outputDir: "out",
      templates: ["t"],
      graphs: ["g.ttl"],
      vars: { name: "x" },
    });
    expect(r.files.map((f) => f.path).sort()).toEqual(["a.txt", "b.txt"]);
    const r2 = await generate({ cwd: d, outputDir: "out2", templates: ["t/a.tmpl"], vars: { name: "x" } });
    expect(r2.files.map((f) => f.path)).toEqual(["a.txt"]);
  });
});

describe("impactOf", () => {
  it("on a generation that reads no graph: no output changes (not an error)", async () => {
    const d = project({ "t/plain.tmpl": plain, "new.ttl": "<http://x/a> <http://x/p> <http://x/b> .\n" });
    await generate({ cwd: d, outputDir: "out", templates: ["t/plain.tmpl"], vars: { name: "x" } });
    expect(await impactOf({ cwd: d, outputDir: "out", graph: "new.ttl" })).toEqual([]);
  });
});

describe("readsGraph", () => {
  const cases: [string, string, boolean][] = [
    ["no query", plain, false],
    ["sparql helper in the body", queries, true],
    ["sparql helper in `to:`", "---\nto: \"{{sparql 'SELECT ?s WHERE { ?s ?p ?o }'}}.txt\"\n---\nx\n", true],
    [
      "sparql: frontmatter",
      "---\nto: a.txt\nsparql:\n  all: SELECT * WHERE { ?s ?p ?o }\n---\n{{all}}\n",
      true,
    ],
    ["for_each query", '---\nto: "{{s}}.txt"\nfor_each: SELECT ?s WHERE { ?s ?p ?o }\n---\nx\n', true],
    ["for_each { query }", '---\nto: "{{s}}.txt"\nfor_each: { query: "SELECT ?s {}" }\n---\nx\n', true],
    ["for_each over a var", '---\nto: "{{item}}.txt"\nfor_each: items\n---\nx\n', false],
    ["when: ASK", "---\nto: a.txt\nwhen: ASK { ?s ?p ?o }\n---\nx\n", true],
    ["when: true", "---\nto: a.txt\nwhen: true\n---\nx\n", false],
    ["when: a var (could hold an ASK)", '---\nto: a.txt\nwhen: "{{ok}}"\n---\nx\n', true],
    ["a `from:` body (read when rendered)", "---\nto: a.txt\nfrom: body.txt\n---\n", true],
  ];
  for (const cache of [false, true])
    for (const [what, text, reads] of cases)
      it(`${what}: ${reads ? "reads" : "does not read"} a graph (${cache ? "precompiled" : "compiled"})`, () => {
        const d = project({ "t.tmpl": text });
        const cacheDir = cache ? mkdtempSync(join(tmpdir(), "ggen-graph-use-")) : undefined;
        try {
          // Twice with a cache: the second load is the precompiled one.
          if (cacheDir) loadTemplate(join(d, "t.tmpl"), "t.tmpl", cacheDir);
          expect(readsGraph(loadTemplate(join(d, "t.tmpl"), "t.tmpl", cacheDir))).toBe(reads);
        } finally {
          if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
        }
      });
});
