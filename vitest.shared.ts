import { defineConfig } from "vitest/config";

// Every package's unit tests. Timeouts are generous on purpose: CI is a 2-core machine running
// real processes (servers, compilers) under load, and a timeout is a hang detector, not a speed
// check — speed lives in the benchmarks.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
