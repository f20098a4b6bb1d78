// readInput refuses what is not a regular file by what the opened fd is: a FIFO without a writer is
// refused at once (opened non-blocking), a directory, /dev/zero and a missing file each by name.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { readInput } from "./input.js";

// The limit is read once a process (generatorLimits): set before the first read.
process.env.GGEN_MAX_INPUT_SIZE = "1K";
const dir = mkdtempSync(join(tmpdir(), "ggen-input-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const where = { file: "t.tmpl", line: 3 };
const refusal = (abs: string) => {
  try {
    readInput(abs, where, "the vars file");
  } catch (e) {
    const g = e as { code: string; message: string; location?: unknown };
    return { code: g.code, message: g.message, location: g.location };
  }
  throw new Error(`${abs} was read`);
};

it("reads a regular file whole", () => {
  writeFileSync(join(dir, "ok.yaml"), "name: shop\n");
  expect(readInput(join(dir, "ok.yaml"), where, "the vars file")).toBe("name: shop\n");
});

it("refuses a missing file, a directory, a FIFO and a device, each by what it is", () => {
  expect(refusal(join(dir, "none.yaml"))).toEqual({
    code: "INPUT_READ",
    message: "the vars file not found",
    location: where,
  });
  mkdirSync(join(dir, "d"));
  expect(refusal(join(dir, "d")).message).toBe("the vars file is a directory");
  execFileSync("mkfifo", [join(dir, "pipe.yaml")]);
  expect(refusal(join(dir, "pipe.yaml")).message).toBe("the vars file is not a regular file");
  expect(refusal("/dev/zero").message).toBe("the vars file is not a regular file");
});

it("refuses a file over the input limit, and reads one at it", () => {
  writeFileSync(join(dir, "big.yaml"), "x".repeat(1025));
  expect(refusal(join(dir, "big.yaml")).code).toBe("INPUT_TOO_LARGE");
  writeFileSync(join(dir, "limit.yaml"), "x".repeat(1024));
  expect(readInput(join(dir, "limit.yaml"), where, "the vars file")).toHaveLength(1024);
});
