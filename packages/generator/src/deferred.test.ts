// Digests taken on first read (deferred.ts): what a run returns without a manifest is, once read, what
// the same run writes into one — and the accessors behave as data for JSON, spreads and writes.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { defer, deferMap, once } from "./deferred.js";
import { generate } from "./engine.js";
import { project, removeProjects } from "./testkit.js";

afterEach(removeProjects);

describe("defer", () => {
  it("computes on the first read only, reads as data, and takes a write", () => {
    let runs = 0;
    const o = defer({ a: 1 } as { a: number; b: string }, "b", () => {
      runs += 1;
      return "x";
    });
    expect(runs).toBe(0);
    expect(JSON.stringify(o)).toBe('{"a":1,"b":"x"}');
    expect({ ...o }).toEqual({ a: 1, b: "x" });
    expect(runs).toBe(1);
    o.b = "y";
    expect(o.b).toBe("y");
    deferMap(o, "b", (v) => `${v}!`);
    expect(o.b).toBe("y!");
    const p = defer({} as { c: number }, "c", () => 2);
    let mapped = 0;
    deferMap(p, "c", (v) => {
      mapped += 1;
      return v * 10;
    });
    expect(mapped).toBe(0);
    expect(p.c).toBe(20);
    const one = once(() => ({}));
    expect(one()).toBe(one());
  });
});

const sha = (s: string | Buffer) => createHash("sha256").update(s).digest("hex");
const templates = {
  "t/a.tmpl": "---\nto: a.txt\nvars:\n  name: x\n---\nhello {{name}}\n",
  "t/b.tmpl": "---\nto: b.txt\n---\nplain\n",
};
/** The manifest without what differs between two runs (times). */
const steady = (m: unknown) =>
  JSON.parse(
    JSON.stringify(m)
      .replace(/"(startedAt|finishedAt)":"[^"]+"/g, '"$1":"T"')
      .replace(/"(\w+Ms)":[\d.]+/g, '"$1":0'),
  );

describe("digests without a manifest", () => {
  it("are, once read, those a run with a manifest writes", async () => {
    const a = project(templates);
    const b = project(templates);
    const none = await generate({
      cwd: a,
      templates: ["t"],
      outputDir: "out",
      manifest: false,
      vars: { name: "y" },
    });
    const written = await generate({ cwd: b, templates: ["t"], outputDir: "out", vars: { name: "y" } });
    for (const f of none.files) expect(f.sha256).toBe(sha(readFileSync(join(a, "out", f.path))));
    const lock = JSON.parse(readFileSync(join(b, "out", ".ggen", "manifest.json"), "utf8"));
    expect(steady(none.manifest)).toEqual(steady(lock));
    expect(steady(written.manifest)).toEqual(steady(lock));
    expect(lock.files[0].provenance.inputs).toMatch(/^[0-9a-f]{64}$/);
    expect(lock.inputs.templates[0].sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
