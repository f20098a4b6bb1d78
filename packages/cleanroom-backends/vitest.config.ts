import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Real services and isolation on 2 cores: a few files at once, not one per core-hungry worker.
    maxWorkers: 2,
  },
});
