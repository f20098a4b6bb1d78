// Helpers for this package's tests: throwaway projects in a temp dir and a tiny HTTP service.
import { promises as fs, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];

export async function project(files: Record<string, string>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "ggen-lifecycle-"));
  made.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    await fs.mkdir(join(dir, rel, ".."), { recursive: true });
    await fs.writeFile(join(dir, rel), text);
  }
  return dir;
}

export function cleanupProjects(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A Node HTTP service answering /health with `body` (status `status`), on $PORT. */
export function serviceSource(body: string, status = 200): string {
  return `const http = require("node:http");
http.createServer((req, res) => { res.writeHead(${status}); res.end(${JSON.stringify(body)}); })
  .listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
`;
}
