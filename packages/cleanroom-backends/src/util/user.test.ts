import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { isRoot, runAsUser } from "./user.js";

describe("runAsUser", () => {
  // As root it finds (or creates) the system user; its ids are what id(1) says, read from /etc/passwd.
  it.skipIf(!isRoot())("gives the ids id(1) gives for the unprivileged user", () => {
    const ids = runAsUser("ggen-cleanroom");
    const id = (flag: string) =>
      Number(execFileSync("id", [flag, "ggen-cleanroom"], { encoding: "utf8" }).trim());
    expect(ids).toEqual({ uid: id("-u"), gid: id("-g"), name: "ggen-cleanroom" });
    expect(ids!.uid).toBeGreaterThan(0);
  });

  it.skipIf(isRoot())("is the current user (undefined) when not root", () => {
    expect(runAsUser("ggen-cleanroom")).toBeUndefined();
  });
});
