import { defineConfig } from "vitest/config";

// The hostile suite (issue: no escape, no hang, no half-install, no leak): each case runs a built program on
// bad input and checks one line, an exit code, nothing outside its roots, nothing left behind.
export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ["**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
