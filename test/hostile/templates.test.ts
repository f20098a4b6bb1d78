// Templates (ggen gen): no escape through `to:`, a var, a symlink, a mode or a hook; every input bounded
// (sizes, nesting, loops, queries, patterns); bad input is one line. Each refusal is followed by the
// ordinary command succeeding.
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectRefused, run, Sandbox } from "./harness.js";

const box = new Sandbox("templates");
// What the hostile templates point at: a folder beside the sandbox, which must stay as it is too.
const targets = mkdtempSync(join(tmpdir(), "ggen-hostile-targets-"));
afterAll(() => {
  box.dispose();
  rmSync(targets, { recursive: true, force: true });
});

function put(rel: string, text: string): string {
  const p = join(box.root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
  return p;
}

const ggen = (args: string[], env?: NodeJS.ProcessEnv) =>
  run("ggen", args, { cwd: box.root, ...(env ? { env } : {}) });

/** The ordinary command after a refusal: a plain template renders. */
async function stillWorks(): Promise<void> {
  expect(readdirSync(targets).sort()).toEqual(["evil.tmpl", "secret.txt"]);
  const r = await ggen(["gen", "ok.tmpl", "-o", "out", "--vars", "name=shop"]);
  expect(r.code, r.stderr).toBe(0);
  expect(readFileSync(join(box.root, "out", "shop.txt"), "utf8")).toBe("hello shop\n");
  box.check();
}

beforeAll(() => {
  put("ok.tmpl", '---\nto: "{{name}}.txt"\n---\nhello {{name}}\n');
  writeFileSync(join(targets, "secret.txt"), "secret\n");
  writeFileSync(join(targets, "evil.tmpl"), "---\nto: evil.txt\nsh_before: touch pwned\n---\nevil\n");
});

describe("escapes", () => {
  it.each([
    ["a YAML list", "to: [a.txt, b.txt]"],
    ["a YAML map", "to: { path: a.txt }"],
    ["a trailing slash", "to: out/dir/"],
    ["a home directory", "to: ~/a.txt"],
    ["a backslash", 'to: "..\\\\..\\\\a.txt"'],
    ["percent-encoded dots", "to: '%2e%2e/%2e%2e/a.txt'"],
  ])("'to:' as %s is refused", async (_what, to) => {
    put("to.tmpl", `---\n${to}\n---\nx\n`);
    expectRefused(await ggen(["gen", "to.tmpl", "-o", "out"]), 2);
    box.check();
    await stillWorks();
  });

  it("a var's value never adds frontmatter keys (a newline and from: reads nothing)", async () => {
    const evil = `x.txt"\nfrom: "${join(targets, "secret.txt")}`;
    expectRefused(await ggen(["gen", "ok.tmpl", "-o", "out2", "--vars", `name=${evil}`]), 2);
    expect(existsSync(join(box.root, "out2"))).toBe(false);
    // The same value where it is only data renders as data.
    put("data.tmpl", "---\nto: data.txt\n---\n{{name}}\n");
    const r = await ggen(["gen", "data.tmpl", "-o", "out2", "--vars", `name=${evil}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(box.root, "out2", "data.txt"), "utf8")).toBe(`${evil}\n`);
    box.check();
  });

  it("a pack's template, from: or rdf: reaching outside the pack through a symlink is refused", async () => {
    put(
      "pack/ggen.toml",
      '[pack]\nid = "io.example.hostile"\nname = "hostile"\nversion = "1.0.0"\ndescription = "x"\nlicense = "MIT"\n\n[[templates]]\nname = "evil"\npath = "templates/evil.tmpl"\n\n[[templates]]\nname = "from"\npath = "templates/from.tmpl"\n\n[[templates]]\nname = "rdf"\npath = "templates/rdf.tmpl"\n',
    );
    mkdirSync(join(box.root, "pack/templates"), { recursive: true });
    symlinkSync(join(targets, "evil.tmpl"), join(box.root, "pack/templates/evil.tmpl"));
    symlinkSync(join(targets, "secret.txt"), join(box.root, "pack/templates/body.hbs"));
    symlinkSync(join(targets, "secret.txt"), join(box.root, "pack/templates/g.ttl"));
    put("pack/templates/from.tmpl", "---\nto: from.txt\nfrom: body.hbs\n---\n");
    put("pack/templates/rdf.tmpl", "---\nto: rdf.txt\nrdf: g.ttl\n---\nx\n");
    for (const t of ["evil", "from", "rdf"]) {
      const r = await ggen(["gen", `pack:${t}`, "-o", "out3"]);
      expectRefused(r, 2);
      expect(r.stderr).toMatch(/outside the pack/);
    }
    expect(existsSync(join(box.root, "out3"))).toBe(false);
    box.check();
    await stillWorks();
  });

  it("chmod never sets setuid, setgid or sticky bits", async () => {
    for (const mode of ["4755", "2755", "1777", "6755"]) {
      put("mode.tmpl", `---\nto: run.sh\nchmod: ${mode}\n---\necho\n`);
      expectRefused(await ggen(["gen", "mode.tmpl", "-o", "out4"]), 2);
    }
    put("mode.tmpl", "---\nto: run.sh\nchmod: 755\n---\necho\n");
    expect((await ggen(["gen", "mode.tmpl", "-o", "out4"])).code).toBe(0);
    expect(statSync(join(box.root, "out4/run.sh")).mode & 0o7777).toBe(0o755);
    box.check();
  });
});

describe("hooks are not an injection point", () => {
  beforeAll(() => {
    put(
      "hook.tmpl",
      '---\nto: "hook.txt"\nsh_after: "echo {{name}} > f; echo \'{{name}}\' >> f; echo \\"{{name}}\\" >> f"\n---\nx\n',
    );
  });

  it.each([["$(touch pwned)"], ["`touch pwned`"]])(
    "a command substitution in a value is refused: %s",
    async (value) => {
      expectRefused(
        await ggen(["gen", "hook.tmpl", "-o", "h1", "--allow-hooks", "--vars", `name=${value}`]),
        2,
      );
      expect(existsSync(join(box.root, "pwned"))).toBe(false);
      expect(existsSync(join(box.root, "h1"))).toBe(false);
      box.check();
    },
  );

  it.each([
    ["x; touch pwned"],
    ["x && touch pwned"],
    ["x\ntouch pwned"],
    ["it's \"quoted\" ' \\ $HOME"],
    ["a | touch pwned #"],
  ])("other shell syntax in a value is data, in every quoting: %j", async (value) => {
    const r = await ggen([
      "gen",
      "hook.tmpl",
      "-o",
      "h2",
      "--allow-hooks",
      "--force",
      "--vars",
      `name=${value}`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(box.root, "pwned"))).toBe(false);
    expect(existsSync(join(box.root, "h2/pwned"))).toBe(false);
    expect(readFileSync(join(box.root, "h2/f"), "utf8")).toBe(`${value}\n${value}\n${value}\n`);
    box.check();
  });

  it("a hook that is not a command is refused when the template is read", async () => {
    put("badhook.tmpl", "---\nto: b.txt\nsh_before: { run: ls }\n---\nx\n");
    const r = await ggen(["gen", "badhook.tmpl", "-o", "h3"]);
    expectRefused(r, 2);
    expect(r.stderr).toMatch(/badhook\.tmpl:3: 'sh_before' must be a command/);
    await stillWorks();
  });
});

describe("every input is bounded", () => {
  it("/dev/zero and a FIFO as a vars file or from: end at once", async () => {
    const fifo = join(box.root, "pipe.yaml");
    execFileSync("mkfifo", [fifo]);
    expectRefused(await ggen(["gen", "ok.tmpl", "-o", "out", "--vars-file", "/dev/zero"]), 2);
    expectRefused(await ggen(["gen", "ok.tmpl", "-o", "out", "--vars-file", "pipe.yaml"]), 2);
    execFileSync("mkfifo", [join(box.root, "body.fifo")]);
    put("fifo.tmpl", "---\nto: f.txt\nfrom: body.fifo\n---\n");
    expectRefused(await ggen(["gen", "fifo.tmpl", "-o", "out"]), 2);
    put("zero.tmpl", "---\nto: z.txt\nfrom: /dev/zero\n---\n");
    expectRefused(await ggen(["gen", "zero.tmpl", "-o", "out"]), 2);
    await stillWorks();
  });

  it("a 64 MiB value stops at the input size limit", async () => {
    put("big.yaml", `name: ${"x".repeat(64 << 20)}\n`);
    const r = await ggen(["gen", "ok.tmpl", "-o", "out", "--vars-file", "big.yaml"]);
    expectRefused(r, 1);
    expect(r.stderr).toMatch(/larger than the 16 MiB limit \(raise it with GGEN_MAX_INPUT_SIZE/);
    await stillWorks();
  });

  it("5,000 nested {{#if}} and 20,000 expressions stop before Handlebars parses them", async () => {
    put("nest.tmpl", `---\nto: n.txt\n---\n${"{{#if x}}".repeat(5000)}y${"{{/if}}".repeat(5000)}\n`);
    const nest = await ggen(["gen", "nest.tmpl", "-o", "out", "--vars", "x=1"]);
    expectRefused(nest, 2);
    expect(nest.stderr).toMatch(/nest\.tmpl:4: blocks and subexpressions nest more than 100 deep/);
    put("many.tmpl", `---\nto: m.txt\n---\n${"{{x}}\n".repeat(20_000)}`);
    expectRefused(await ggen(["gen", "many.tmpl", "-o", "out"]), 2);
    await stillWorks();
  });

  it("a product of loops stops at the render budget, naming the template", async () => {
    put(
      "loops.tmpl",
      "---\nto: l.txt\nvars:\n  xs: { type: list }\n---\n{{#each xs}}{{#each ../xs}}.{{/each}}{{/each}}\n",
    );
    const xs = Array.from({ length: 1100 }, (_, i) => i).join(",");
    const r = await ggen(["gen", "loops.tmpl", "-o", "out", "--vars", `xs=${xs}`]);
    expectRefused(r, 1);
    expect(r.stderr).toMatch(/loops\.tmpl:\d+: rendering passed 1,000,000 \{\{#each\}\} iterations/);
    await stillWorks();
  });

  it("a cartesian product in for_each or the sparql helper stops at --query-timeout, naming the template", async () => {
    put(
      "c.nt",
      Array.from({ length: 300 }, (_, i) => `<http://e/${i}> <http://p/${i % 7}> "${i}" .\n`).join(""),
    );
    const product = "?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l";
    put(
      "fe.tmpl",
      `---\nto: "{{a}}.txt"\nrdf: c.nt\nfor_each: "SELECT ?a WHERE { ${product} } ORDER BY ?a LIMIT 1"\n---\nx\n`,
    );
    const fe = await ggen(["gen", "fe.tmpl", "-o", "out", "--query-timeout", "1s"]);
    expectRefused(fe, 1);
    expect(fe.stderr).toMatch(/^ggen: error: fe\.tmpl:4: for_each: query ran past its 1 s limit/);
    put(
      "helper.tmpl",
      `---\nto: h.txt\nrdf: c.nt\n---\n{{#each (sparql "SELECT (COUNT(*) AS ?n) WHERE { ${product} }")}}{{n}}{{/each}}\n`,
    );
    const h = await ggen(["gen", "helper.tmpl", "-o", "out"], { GGEN_QUERY_TIMEOUT: "1s" });
    expectRefused(h, 1);
    expect(h.stderr).toMatch(/helper\.tmpl:5: sparql helper: query ran past its 1 s limit/);
    await stillWorks();
  });

  it("a var's pattern cannot backtrack catastrophically", async () => {
    put("pat.tmpl", '---\nto: p.txt\nvars:\n  name: { pattern: "^(a+)+$" }\n---\n{{name}}\n');
    const r = await ggen(["gen", "pat.tmpl", "-o", "out", "--vars", `name=${"a".repeat(50_000)}!`]);
    expectRefused(r, 2);
    expect(r.ms).toBeLessThan(20_000);
    await stillWorks();
  });
});

describe("bad input is one line", () => {
  it.each([
    [
      "an unknown block helper",
      "---\nto: u.txt\n---\n{{#frobnicate x}}y{{/frobnicate}}\n",
      /unknown block helper 'frobnicate'/,
    ],
    ["an unknown section", "---\nto: u.txt\n---\n{{#items}}y{{/items}}\n", /unknown block helper 'items'/],
    ["prefixes that are not a map", "---\nto: u.txt\nprefixes: [ex]\n---\nx\n", /'prefixes' must be a map/],
    [
      "a prefix IRI that would add a query line",
      '---\nto: u.txt\nprefixes:\n  ex: "{{iri}}"\nrdf_inline: "<http://a> <http://b> <http://c> ."\nsparql:\n  q: "SELECT * { ?s ?p ?o }"\n---\nx\n',
      /prefix 'ex': .* is not an IRI/,
    ],
    ["a frontmatter that is a list", "---\n- to: a.txt\n---\nx\n", /frontmatter must be a YAML map/],
  ])("%s", async (_what, text, message) => {
    put("bad.tmpl", text);
    const r = await ggen(["gen", "bad.tmpl", "-o", "out", "--vars", "iri=http://x/> SELECT * {} #"]);
    expectRefused(r, 2);
    expect(r.stderr).toMatch(message);
    await stillWorks();
  });
});
