import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  acquireLock,
  isAlive,
  lockPathFor,
  longTimeout,
  MAX_TIMER_MS,
  processRef,
  refAlive,
  withLock,
} from "./index.js";

const scratch = mkdtempSync(join(tmpdir(), "ggen-lock-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A node process that takes the lock, says so on stdout, then waits to be killed. */
function holder(path: string) {
  const entry = join(import.meta.dirname, "..", "dist", "index.js");
  const src = `import(${JSON.stringify(entry)}).then(async (s) => { await s.acquireLock(${JSON.stringify(path)}); console.log("held"); setInterval(() => {}, 1000); });`;
  const child = spawn(process.execPath, ["-e", src], { stdio: ["ignore", "pipe", "inherit"] });
  const held = new Promise<void>((res, rej) => {
    child.stdout.on("data", (d) => String(d).includes("held") && res());
    child.on("exit", (c) => rej(new Error(`holder exited ${c}`)));
  });
  return { child, held };
}

describe("withLock", () => {
  it("runs callers one at a time", async () => {
    const path = join(scratch, "serial", "state.json");
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 8 }, () =>
        withLock(path, async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 5));
          inside--;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(existsSync(lockPathFor(path))).toBe(false);
  });

  it("records its owner, whole, and releases on a throw", async () => {
    const path = join(scratch, "owner", "x");
    await expect(
      withLock(path, () => {
        const owner = JSON.parse(readFileSync(lockPathFor(path), "utf8"));
        expect(owner.pid).toBe(process.pid);
        expect(owner.start).toBe(processRef().start);
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(existsSync(lockPathFor(path))).toBe(false);
  });

  it("takes over at once from a kill -9'd owner; waits for, then fails on, a live one", async () => {
    mkdirSync(join(scratch, "dead"), { recursive: true });
    const path = join(scratch, "dead", "ggen.lock");
    const live = holder(path);
    await live.held;
    await expect(withLock(path, () => "never", { waitMs: 200, what: "ggen.lock" })).rejects.toThrow(
      new RegExp(`ggen.lock is locked by process ${live.child.pid} on `),
    );
    live.child.kill("SIGKILL");
    await new Promise((r) => live.child.once("exit", r));
    // waitMs 0: the dead owner must not cost a wait at all
    expect(await withLock(path, () => "mine", { waitMs: 0 })).toBe("mine");
    expect(readdirSync(join(scratch, "dead"))).toEqual([]);
  });

  it("replaces garbage or an old lock directory (proper-lockfile's) whose owner is unknown", async () => {
    const a = join(scratch, "garbage", "a");
    mkdirSync(join(scratch, "garbage"), { recursive: true });
    writeFileSync(lockPathFor(a), "");
    expect(await withLock(a, () => 1, { waitMs: 0 })).toBe(1);
    const b = join(scratch, "garbage", "b");
    mkdirSync(lockPathFor(b));
    expect(await withLock(b, () => 2, { waitMs: 0 })).toBe(2);
  });

  it("a release runs once, and never removes a lock that is not its own", async () => {
    const path = join(scratch, "twice", "x");
    const release = await acquireLock(path);
    writeFileSync(lockPathFor(path), JSON.stringify({ pid: 1, start: "", host: "elsewhere", since: "" }));
    await release();
    expect(existsSync(lockPathFor(path))).toBe(true);
  });
});

describe("processRef", () => {
  it("names this process; a pid with another start time is not alive", () => {
    const me = processRef();
    expect(refAlive(me)).toBe(true);
    expect(refAlive({ ...me, start: `${me.start}0` })).toBe(false);
    expect(isAlive(0)).toBe(false);
  });
});

describe("longTimeout", () => {
  it("does not fire at once for delays past Node's 24.8-day limit", async () => {
    let fired = 0;
    const t = longTimeout(() => fired++, MAX_TIMER_MS * 2 + 5).unref();
    await new Promise((r) => setTimeout(r, 30));
    t.clear();
    expect(fired).toBe(0);
    const short = await new Promise<number>((res) => longTimeout(() => res(1), 5));
    expect(short).toBe(1);
  });
});
