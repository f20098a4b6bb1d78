// An unprivileged system user for programs that refuse to run as root (PostgreSQL) and for sandboxed
// commands when we are root (so process-count limits apply: root ignores RLIMIT_NPROC).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { GgenError } from "@ggen/contract";

export interface Ids {
  uid: number;
  gid: number;
  name: string;
}

const cache = new Map<string, Ids>();

/** The user's ids from /etc/passwd (no process to start), else from id(1), which asks NSS too. */
function lookup(name: string): Ids | undefined {
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const [user, , uid, gid] = line.split(":");
      if (user === name && uid && gid) return { uid: Number(uid), gid: Number(gid), name };
    }
  } catch {
    // no readable /etc/passwd: id(1) below
  }
  try {
    const uid = Number(
      execFileSync("id", ["-u", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim(),
    );
    const gid = Number(
      execFileSync("id", ["-g", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim(),
    );
    return { uid, gid, name };
  } catch {
    return undefined;
  }
}

export const isRoot = (): boolean => process.getuid?.() === 0;

/** The ids to run as: the current user when not root, else system user `name` (created when missing). */
export function runAsUser(name: string): Ids | undefined {
  if (!isRoot()) return undefined;
  const known = cache.get(name);
  if (known) return known;
  let ids = lookup(name);
  for (let attempt = 0; !ids && attempt < 20; attempt++) {
    try {
      execFileSync("useradd", ["-r", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin", name], {
        stdio: "ignore",
      });
    } catch {
      // another process created it, or /etc/passwd was locked: look again
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
    ids = lookup(name);
  }
  if (!ids) {
    throw new GgenError("CLEANROOM_USER", `could not create the unprivileged system user ${name}`, {
      hint: "run as a non-root user, or make useradd available",
    });
  }
  cache.set(name, ids);
  return ids;
}

/** argv prefix dropping to `ids` (setpriv execs, so the pid stays the program's). */
export function dropTo(ids: Ids | undefined, pdeathsig?: string): string[] {
  const prefix: string[] = [];
  if (ids) prefix.push("setpriv", `--reuid=${ids.uid}`, `--regid=${ids.gid}`, "--clear-groups");
  if (pdeathsig) {
    if (prefix.length === 0) prefix.push("setpriv");
    prefix.push(`--pdeathsig=${pdeathsig}`);
  }
  if (prefix.length > 0) prefix.push("--");
  return prefix;
}
