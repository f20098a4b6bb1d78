// README's "what each backend enforces" table is what `cleanroom environment status --json` reports (issue 14):
// the four environments of the table are made through the built program and their `guarantees` compared
// with every yes/no cell. A cell that says "where …" depends on the machine and is only checked to be a boolean.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repo } from "./repo.js";

const bin = join(repo, "apps/cleanroom/dist/bin.js");
const dir = realpathSync(mkdtempSync(join(tmpdir(), "ggen-guarantees-")));

function cleanroom(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", CLEANROOM_ENV: "" },
    timeout: 300_000,
  });
}

/** The table's rows: guarantee key → the four cells (local, local --isolated, testcontainers, tc --isolated). */
function readmeTable(): Map<string, string[]> {
  const readme = readFileSync(join(repo, "README.md"), "utf8");
  const section = /### Cleanroom: what each backend enforces\n([\s\S]*?)\n#{2,3} /.exec(readme)?.[1] ?? "";
  const rows = new Map<string, string[]>();
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    const key = /^`(\w+)`:/.exec(cells[1] ?? "")?.[1];
    if (key) rows.set(key, cells.slice(2, 6));
  }
  return rows;
}

const columns = [
  { name: "g-local", backend: "local", isolated: false },
  { name: "g-local-iso", backend: "local", isolated: true },
  { name: "g-tc", backend: "testcontainers", isolated: false },
  { name: "g-tc-iso", backend: "testcontainers", isolated: true },
] as const;

afterAll(() => {
  for (const c of columns)
    cleanroom("environment", "delete", "--name", c.name, "--force", "--backend", c.backend);
  rmSync(dir, { recursive: true, force: true });
});

describe("README's guarantee table", () => {
  const table = readmeTable();

  it("names every guarantee an environment reports", () => {
    expect([...table.keys()].sort()).toEqual(
      ["filesystem", "mountTargets", "network", "pid", "privateTmp", "readOnlyMounts", "readOnlyRoot"].sort(),
    );
  });

  columns.forEach((c, i) => {
    it(`matches environment status --json for ${c.backend}${c.isolated ? " --isolated" : ""}`, {
      timeout: 600_000,
    }, () => {
      const made = cleanroom(
        "environment",
        "create",
        "--name",
        c.name,
        "--backend",
        c.backend,
        ...(c.isolated ? ["--isolated"] : []),
      );
      expect(made.status, made.stderr).toBe(0);
      const status = cleanroom("environment", "status", "--name", c.name, "--backend", c.backend, "--json");
      expect(status.status, status.stderr).toBe(0);
      const guarantees = JSON.parse(status.stdout).guarantees as Record<string, unknown>;
      for (const [key, cells] of table) {
        const cell = cells[i] === "same" ? cells[i - 1] : cells[i];
        if (cell === "yes" || cell === "no") expect([key, guarantees[key]]).toEqual([key, cell === "yes"]);
        else expect([key, typeof guarantees[key]]).toEqual([key, "boolean"]);
      }
    });
  });
});
