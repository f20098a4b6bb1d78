// `ggen gen --watch` through the built program: a change to a template, a vars file or a graph
// re-renders (what changed is printed), a file the watch wrote is re-rendered without --force, and a
// real SIGINT — sent while a run of thousands of files may be writing — leaves no temp file and no
// half-written file behind, and exits 130.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const bin = join(import.meta.dirname, "..", "dist", "bin.js");
const root = mkdtempSync(join(tmpdir(), "ggen-watch-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The program, with its stderr collected; `until(text)` resolves once stderr holds `text`. */
function start(cwd: string, args: string[]) {
  const child: ChildProcess = spawn(process.execPath, [bin, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  const waiters: { text: string; done: () => void }[] = [];
  child.stderr!.on("data", (b: Buffer) => {
    stderr += b.toString();
    for (const w of waiters.splice(0))
      if (stderr.includes(w.text)) w.done();
      else waiters.push(w);
  });
  child.stdout!.on("data", (b: Buffer) => {
    stdout += b.toString();
  });
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return {
    child,
    exited,
    out: () => stdout,
    err: () => stderr,
    until: (text: string) =>
      new Promise<void>((done, fail) => {
        if (stderr.includes(text)) return done();
        waiters.push({ text, done });
        exited.then(() => fail(new Error(`exited before '${text}'; stderr: ${stderr}`)));
      }),
  };
}

describe("ggen gen --watch", () => {
  it("re-renders on changes to templates, vars files and graphs, printing what changed", async () => {
    const d = join(root, "basic");
    mkdirSync(join(d, "t"), { recursive: true });
    writeFileSync(join(d, "t", "a.tmpl"), "---\nto: a.txt\n---\nhello {{name}}\n");
    writeFileSync(
      join(d, "t", "g.tmpl"),
      "---\nto: g.txt\nrdf: ../g.ttl\nsparql:\n  c: 'SELECT ?c WHERE { ?c a <http://e/C> } ORDER BY ?c'\n---\n{{#each sparql.c}}{{local c}}\n{{/each}}",
    );
    writeFileSync(join(d, "g.ttl"), "<http://e/x> a <http://e/C> .\n");
    writeFileSync(join(d, "vars.yaml"), "name: one\n");
    const p = start(d, ["gen", "t", "-o", "out", "--vars-file", "vars.yaml", "--watch"]);
    try {
      await p.until("(Ctrl-C to stop)");
      expect(p.err()).toContain("watching t, vars.yaml");
      expect(readFileSync(join(d, "out", "a.txt"), "utf8")).toBe("hello one\n");
      writeFileSync(join(d, "vars.yaml"), "name: two\n");
      await p.until("changed: vars.yaml");
      // The watch wrote a.txt: it is its own, so it is re-rendered without --force.
      expect(readFileSync(join(d, "out", "a.txt"), "utf8")).toBe("hello two\n");
      writeFileSync(join(d, "t", "a.tmpl"), "---\nto: a.txt\n---\nbye {{name}}\n");
      await p.until("changed: t/a.tmpl");
      expect(readFileSync(join(d, "out", "a.txt"), "utf8")).toBe("bye two\n");
      writeFileSync(join(d, "g.ttl"), "<http://e/x> a <http://e/C> .\n<http://e/y> a <http://e/C> .\n");
      await p.until("changed: g.ttl");
      expect(readFileSync(join(d, "out", "g.txt"), "utf8")).toBe("x\ny\n");
      // A broken template is reported, and watching goes on.
      writeFileSync(join(d, "t", "a.tmpl"), "---\nto: a.txt\n---\n{{#if}}\n");
      await p.until("ggen: error: t/a.tmpl");
      writeFileSync(join(d, "t", "a.tmpl"), "---\nto: a.txt\n---\nfixed\n");
      await p.until("changed: t/a.tmpl\n");
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      p.child.kill("SIGINT");
    }
    expect(await p.exited).toBe(130);
    expect(p.err()).toContain("stopped watching");
  }, 60_000);

  it("a real SIGINT during a large run leaves every file whole and no temp file", async () => {
    const d = join(root, "big");
    mkdirSync(join(d, "t"), { recursive: true });
    writeFileSync(
      join(d, "t", "many.tmpl"),
      "---\nto: 'f/{{item}}.txt'\nfor_each: items\nvars: { items: { type: list }, v: old, pad: '' }\n---\n{{v}} {{item}}\n{{pad}}\n",
    );
    const items = Array.from({ length: 3000 }, (_, i) => `n${i}`);
    const pad = "x".repeat(20_000); // files big enough that a torn write would show
    writeFileSync(join(d, "vars.json"), JSON.stringify({ items, v: "old", pad }));
    const p = start(d, ["gen", "t", "-o", "out", "--vars-file", "vars.json", "--watch"]);
    await p.until("(Ctrl-C to stop)");
    writeFileSync(join(d, "vars.json"), JSON.stringify({ items, v: "new", pad }));
    // The debounce is 200 ms; the run that follows writes 3,000 files: interrupt around its start.
    await new Promise((r) => setTimeout(r, 300));
    p.child.kill("SIGINT");
    expect(await p.exited).toBe(130);
    const files = readdirSync(join(d, "out", "f"));
    expect(files.filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(files).toHaveLength(3000);
    const torn = files.filter((f) => {
      const text = readFileSync(join(d, "out", "f", f), "utf8");
      return (
        !/^(old|new) n\d+\n$/.test(text.slice(0, text.indexOf("\n") + 1)) ||
        text !== `${text.split("\n")[0]}\n${pad}\n`
      );
    });
    expect(torn).toEqual([]);
  }, 120_000);
});
