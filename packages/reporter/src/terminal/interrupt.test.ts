// exitOnInterrupt in a real process, beside a listener that behaves as signal-exit does (proper-lockfile
// installs it while a lock is held): it re-raises a signal once it is the only listener left.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const dist = join(import.meta.dirname, "..", "..", "dist", "index.js");
const dir = mkdtempSync(join(tmpdir(), "ggen-interrupt-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(
  withHandler: boolean,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; cleaned: boolean }> {
  const done = join(dir, `cleaned-${withHandler}`);
  const script = `
${withHandler ? `const { exitOnInterrupt } = await import(${JSON.stringify(pathToFileURL(dist).href)}); exitOnInterrupt();` : ""}
// The command's own cleanup: once, asynchronous, as ultra-fast-deploy's is.
process.once("SIGINT", () => setTimeout(() => { require("node:fs").writeFileSync(${JSON.stringify(done)}, "yes"); process.exit(); }, 100));
// signal-exit's rule.
process.on("SIGINT", function reraise() {
  if (process.listeners("SIGINT").length === 1) { process.removeListener("SIGINT", reraise); process.kill(process.pid, "SIGINT"); }
});
const require = (await import("node:module")).createRequire(import.meta.url);
console.log("ready");
setInterval(() => {}, 1000);
`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((ok) => {
    child.stdout.once("data", () => child.kill("SIGINT"));
    child.on("exit", (code, signal) =>
      ok({ code, signal, cleaned: existsSync(done) && readFileSync(done, "utf8") === "yes" }),
    );
  });
}

describe("exitOnInterrupt (a real process)", () => {
  it("Ctrl-C lets the command's cleanup finish, then the exit code is 130", async () => {
    expect(existsSync(dist), "dist/index.js missing: pnpm --filter @ggen/reporter build").toBe(true);
    expect(await run(true)).toEqual({ code: 130, signal: null, cleaned: true });
  });

  it("without it, a signal-exit-style listener kills the process before the cleanup runs", async () => {
    expect(await run(false)).toEqual({ code: null, signal: "SIGINT", cleaned: false });
  });
});
