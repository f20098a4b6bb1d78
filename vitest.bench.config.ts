// Benchmarks are vitest files under each package's bench/ folder that measure with @ggen/bench and
// record ratios; run one file at a time so measurements do not compete for the 2 cores.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.bench.ts"],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 600_000,
    reporters: ["dot"],
  },
});
