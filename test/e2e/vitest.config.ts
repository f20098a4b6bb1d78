import { defineConfig } from "vitest/config";

// Whole-repository checks that run after every package's own tests (root `pnpm check`).
export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ["**/*.test.ts"],
    testTimeout: 900_000,
    hookTimeout: 900_000,
    fileParallelism: false,
  },
});
