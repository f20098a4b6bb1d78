import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { isRoot, runAsUser } from "./user.js";

describe("runAsUser", () => {
  // As root: the system user (found or created), its ids what id(1) says (read from /etc/passwd).
  // Otherwise: the current user, undefined.
  it("gives the unprivileged user's ids as id(1) gives them when root, nothing otherwise", () => {
    const ids = runAsUser("ggen-cleanroom");
    if (!isRoot()) {
      expect(ids).toBeUndefined();
      return;
    }
    const id = (flag: string) =>
      Number(execFileSync("id", [flag, "ggen-cleanroom"], { encoding: "utf8" }).trim());
    expect(ids).toEqual({ uid: id("-u"), gid: id("-g"), name: "ggen-cleanroom" });
    expect(ids!.uid).toBeGreaterThan(0);
  });
});
