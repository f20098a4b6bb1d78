// The program shell, for every command: bad input is one line, the right exit code, no stack, no raw
// control bytes echoed from the input.
import { afterAll, describe, it } from "vitest";
import { expectRefused, run, Sandbox } from "./harness.js";

const box = new Sandbox("shell");
afterAll(() => box.dispose());

describe("the program shell", () => {
  it("an unknown command is a usage error on one line, for both programs", async () => {
    expectRefused(await run("ggen", ["frobnicate"], { cwd: box.root }), 2);
    expectRefused(await run("cleanroom", ["frobnicate"], { cwd: box.root }), 2);
    box.check();
  });
});
