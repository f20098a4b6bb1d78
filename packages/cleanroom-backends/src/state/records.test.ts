import { describe, expect, it } from "vitest";
import { checkVariables, MAX_VARIABLE_BYTES, variableProblem } from "./records.js";

describe("environment variables a backend passes", () => {
  it("asks a user's names to be portable, and a caller's only to be what the kernel takes", () => {
    expect(variableProblem("PATH_2", "x")).toBeUndefined();
    expect(variableProblem("2X", "x")).toMatch(/is not a variable name \(letters, digits and '_'/);
    expect(variableProblem("A\u001b", "x")).toMatch(/^"A\\u001b" is not a variable name/);
    expect(variableProblem("BASH_FUNC_f%%", "() { :; }", false)).toBeUndefined();
    expect(variableProblem("A=B", "x", false)).toMatch(/without '=' or NUL/);
    expect(variableProblem("", "x", false)).toMatch(/is not a variable name/);
  });

  it("refuses a NUL in a value and a variable past Linux's MAX_ARG_STRLEN, and allows one just under", () => {
    expect(variableProblem("A", "a\u0000b")).toBe("A holds a NUL byte, which no environment variable can");
    expect(variableProblem("A", "x".repeat(MAX_VARIABLE_BYTES - 2))).toBeUndefined();
    expect(variableProblem("A", "x".repeat(MAX_VARIABLE_BYTES - 1))).toMatch(
      /^A is 128\.0 KiB; one variable can hold at most 128 KiB \(Linux's MAX_ARG_STRLEN\)$/,
    );
    // Bytes, not characters: 50,000 three-byte characters are 150,000 bytes.
    expect(variableProblem("A", "€".repeat(50_000))).toMatch(/at most 128 KiB/);
  });

  it("refuses variables that together pass 1 MiB, naming the total", () => {
    const env = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`V${i}`, "x".repeat(120_000)]));
    expect(() => checkVariables("service redis", env)).toThrow(
      /^service redis: the variables take 1\.\d+ MiB; together they can take at most 1 MiB$/,
    );
    expect(() => checkVariables("service redis", { A: "1" })).not.toThrow();
  });
});
