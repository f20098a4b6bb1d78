import { describe, expect, it } from "vitest";
import { linkedLanes } from "./toolchains.js";

describe("linkedLanes", () => {
  it("names the lanes after the first whose every stage links the dependencies (build, test, package, publish)", () => {
    const stages = [
      { lane: "check", run: ["cargo", "clippy", "--all-targets"] },
      { lane: "check", run: ["cargo", "doc", "--no-deps"] },
      { lane: "build", run: ["cargo", "build"] },
      { lane: "build", run: ["cargo", "test"] },
      { lane: "package", run: ["cargo", "package", "--no-verify"] },
      { lane: "publish", run: ["cargo", "publish", "--dry-run"] },
      { lane: "mixed", run: ["cargo", "build"] },
      { lane: "mixed", run: ["cargo", "check"] },
      { lane: "shell", run: ["make", "build"] },
      { run: ["cargo", "fmt", "--check"] },
    ];
    const lanes = ["check", "build", "package", "publish", "mixed", "shell"];
    expect(linkedLanes(stages, lanes)).toEqual(["build", "package", "publish"]);
    // The first lane has the crate's own target dir, where the step itself builds: never early.
    expect(linkedLanes(stages, ["build", "check", "package"])).toEqual(["package"]);
  });
});
