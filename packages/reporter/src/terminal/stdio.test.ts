// StdioWriter in a real process: what it writes to a pipe or a file arrives whole and in order with what
// the process writes through Node's own streams; a write the fd refuses (a closed reader) falls back to
// the stream, which then behaves as it always did.
import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
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
});
