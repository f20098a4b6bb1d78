// A graph the user gives that no template reads (issue 20, "Real-world ontologies"): `--graph foaf.nq`
// with a pack that has no query was loaded and silently ignored (exit 0). A request the program cannot
// honour is refused out loud: exit 2, one line, before the graph is parsed, nothing written.
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expectRefused, repo, run, Sandbox } from "./harness.js";

const box = new Sandbox("graph-unused");
afterAll(() => box.dispose());

let n = 0;
function project(files: Record<string, string>): string {
  const d = join(box.root, `case-${++n}`);
  mkdirSync(d, { recursive: true });
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(d, p)), { recursive: true });
    writeFileSync(join(d, p), text);
  }
  return d;
}
const packs = join(repo, "fixtures", "registry", "packs");
// A billion-laughs RDF/XML document: were it parsed, the run would end some other way than GRAPH_UNUSED.
const laughs = `<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="http://x/&d;"/></rdf:RDF>
`;

describe("--graph that no template reads", () => {
  const cases: [string, string[]][] = [
    ...[
      "io.ggen.rust-lib",
      "io.ggen.rust-cli",
      "io.ggen.postgres-schema",
      "io.ggen.docs",
      "io.ggen.ci-workflow",
    ].map((p): [string, string[]] => [p, []]),
    ["io.ggen.rust-lib", ["--plan", "plan.json"]],
    ["io.ggen.rust-lib", ["--diff"]],
  ];
  for (const [pack, mode] of cases)
    it(`${pack} ${mode.join(" ") || "(write)"}: exit 2, one line, nothing written`, async () => {
      const d = project({ "foaf.rdf": laughs });
      const r = await run(
        "ggen",
        ["template", "generate", join(packs, pack), "--graph", "foaf.rdf", "-o", "out", ...mode],
        { cwd: d, limitMs: 60_000 },
      );
      expectRefused(r, 2);
      expect(r.stderr).toContain(`--graph foaf.rdf: no template of ${pack} reads a graph`);
      expect(readdirSync(d)).toEqual(["foaf.rdf"]);
      box.check();
    });

  it("a single template given a graph it never queries names the template", async () => {
    const d = project({ "t/a.tmpl": "---\nto: a.txt\n---\n{{upper 'x'}}\n", "g.ttl": "not turtle" });
    const r = await run("ggen", ["gen", "t/a.tmpl", "--graph", "g.ttl", "-o", "out"], { cwd: d });
    expectRefused(r, 2);
    expect(r.stderr).toContain("--graph g.ttl: t/a.tmpl reads no graph");
    expect(readdirSync(d).sort()).toEqual(["g.ttl", "t"]);
    // The command after it, without the graph, succeeds.
    const ok = await run("ggen", ["gen", "t/a.tmpl", "-o", "out"], { cwd: d });
    expect(ok.code, ok.stderr).toBe(0);
    box.check();
  });
});
