// StdioWriter in a real process: what it writes to a pipe or a file arrives whole and in order with what
// the process writes through Node's own streams; a write the fd refuses (a closed reader) falls back to
// the stream, which then behaves as it always did.
import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const dist = pathToFileURL(join(import.meta.dirname, "..", "..", "dist", "index.js")).href;
const dir = mkdtempSync(join(tmpdir(), "ggen-stdio-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 1 MB through the writer (more than a pipe holds), Node's stream between, stderr alike.
const script = `
const { stdio } = await import(${JSON.stringify(dist)});
const { stdout, stderr } = stdio();
stdout.write("a".repeat(1 << 20) + "\\n");
process.stdout.write("from the stream\\n");
stdout.write("tty=" + stdout.isTTY + " é\\n");
stderr.write("note\\n");
process.stderr.write("stream note\\n");
stderr.write("last note\\n");
`;
const expected = `${"a".repeat(1 << 20)}\nfrom the stream\ntty=false é\n`;

describe("StdioWriter", () => {
  it("writes to pipes whole and in order with process.stdout/stderr", () => {
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      maxBuffer: 4 << 20,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(expected);
    expect(r.stderr).toBe("note\nstream note\nlast note\n");
  });

  it("writes to files whole and in order", () => {
    const out = join(dir, "out.txt");
    const fd = openSync(out, "w");
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", fd, fd],
    });
    closeSync(fd);
    expect(r.status).toBe(0);
    expect(readFileSync(out, "utf8")).toBe(`${expected}note\nstream note\nlast note\n`);
  });

  it("falls back to the stream when the fd refuses a write (the reader is gone: EPIPE)", async () => {
    const fallback = `
const { stdio } = await import(${JSON.stringify(dist)});
process.stdout.on("error", (e) => { process.stderr.write("stream error " + e.code + "\\n"); process.exit(3); });
await new Promise((ok) => setTimeout(ok, 300));
stdio().stdout.write("nobody reads this\\n");
`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", fallback], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.destroy(); // the reader closes before the child writes
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    const code = await new Promise((ok) => child.on("exit", ok));
    expect(err).toBe("stream error EPIPE\n");
    expect(code).toBe(3);
  });

  // Where output is discarded: /dev/null is a character device, like a terminal, but none (that gen.cjs
  // then leaves node:tty unloaded is apps/ggen/test/gen-bundle.test.ts's).
  it("treats /dev/null as no terminal", () => {
    const probe = `
const { stdio } = await import(${JSON.stringify(dist)});
const { stdout } = stdio();
stdout.write("discarded\\n");
process.stderr.write(JSON.stringify({ tty: stdout.isTTY }));
`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", probe], {
      stdio: ["ignore", openSync("/dev/null", "w"), "pipe"],
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stderr)).toEqual({ tty: false });
  });

  // A pseudo-terminal (util-linux script(1), which CI installs): a terminal, written through the stream.
  it("knows a terminal for one", () => {
    const probe = join(dir, "probe.mjs");
    writeFileSync(
      probe,
      `const { stdio } = await import(${JSON.stringify(dist)});\nstdio().stdout.write("tty=" + stdio().stdout.isTTY + "\\n");\n`,
    );
    const r = spawnSync("script", ["-qec", `${process.execPath} ${probe}`, "/dev/null"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("tty=true");
  });
});
