import { spawnSync } from "node:child_process";
import { promises as fs } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { GgenError } from "@ggen/contract";
import { afterAll, describe, expect, it } from "vitest";
import { loadState, restoreBackup, STATE_FILE, updateState } from "./state.js";
import { cleanupProjects, project } from "./test-util.js";

afterAll(cleanupProjects);

describe("state", () => {
  it("keeps N rotating backups, newest first", async () => {
    const dir = await project({});
    for (let i = 1; i <= 5; i++) {
      await updateState(
        dir,
        (s) =>
          void s.history.push({ phase: `p${i}`, status: "success", at: "x", durationMs: i, exitCode: 0 }),
        3,
      );
    }
    const s = await loadState(dir);
    expect(s.history.map((h) => h.phase)).toEqual(["p1", "p2", "p3", "p4", "p5"]);
    const bak = async (n: number) =>
      JSON.parse(await fs.readFile(join(dir, `${STATE_FILE}.bak.${n}`), "utf8")).history.length;
    expect([await bak(1), await bak(2), await bak(3)]).toEqual([4, 3, 2]);
    await expect(fs.access(join(dir, `${STATE_FILE}.bak.4`))).rejects.toThrow();
  });

  it("serialises concurrent updates without losing any", async () => {
    const dir = await project({});
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        updateState(dir, (s) => {
          s.requirements[`r${i}`] = "complete";
        }),
      ),
    );
    expect(Object.keys((await loadState(dir)).requirements)).toHaveLength(20);
  });

  it("reports a corrupt state with the newest valid backup, and restores it", async () => {
    const dir = await project({});
    await updateState(dir, (s) => {
      s.requirements.a = "complete";
    });
    await updateState(dir, (s) => {
      s.requirements.b = "complete";
    });
    await fs.writeFile(join(dir, STATE_FILE), '{"version": 1, "phases": {');
    let err: unknown;
    try {
      await loadState(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GgenError);
    expect((err as GgenError).toLine()).toMatch(
      /^\.ggen\/lifecycle-state\.json:1:\d+: the lifecycle state is corrupt: .+ \(newest valid backup is \.ggen\/lifecycle-state\.json\.bak\.1; restore it with 'ggen lifecycle status --restore'\)$/,
    );
    // Writers refuse to build on a corrupt file rather than silently starting afresh.
    await expect(
      updateState(dir, (s) => {
        s.requirements.c = "complete";
      }),
    ).rejects.toThrow(/corrupt/);
    expect(await restoreBackup(dir)).toBe(".ggen/lifecycle-state.json.bak.1");
    expect((await loadState(dir)).requirements).toEqual({ a: "complete" });
  });

  it("a state of the wrong shape is one line naming the first wrong key", async () => {
    const dir = await project({});
    await updateState(dir, () => undefined);
    const s = JSON.parse(await fs.readFile(join(dir, STATE_FILE), "utf8"));
    s.environments.e2 = 5;
    await fs.writeFile(join(dir, STATE_FILE), JSON.stringify(s));
    const err = await loadState(dir).catch((e: GgenError) => e);
    expect((err as GgenError).toLine()).toMatch(
      /^\.ggen\/lifecycle-state\.json: the lifecycle state is corrupt: \/environments\/e2 must be object \(/,
    );
    await expect(
      updateState(dir, (x) => {
        x.environments.e2 ??= { releases: [] };
      }),
    ).rejects.toThrow("the lifecycle state is corrupt");
  });

  it("a lock left by a process that died is taken over at once", async () => {
    const dir = await project({});
    const dead = spawnSync("true").pid!;
    await fs.mkdir(join(dir, ".ggen"), { recursive: true });
    await fs.writeFile(
      join(dir, `${STATE_FILE}.lock`),
      JSON.stringify({ pid: dead, start: "1", host: hostname(), since: new Date().toISOString() }),
    );
    await updateState(dir, (s) => {
      s.requirements.a = "complete";
    });
    expect((await loadState(dir)).requirements.a).toBe("complete");
    await expect(fs.access(join(dir, `${STATE_FILE}.lock`))).rejects.toThrow();
  });
});
