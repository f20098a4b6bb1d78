import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.ts";

// Shared defaults (see vitest.shared.ts at the repository root), plus the W3C conformance runner; the graph
// host is built from source first (src/host.setup.ts).
export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ["src/**/*.test.ts", "conformance/**/*.test.ts"],
      globalSetup: ["src/host.setup.ts"],
    },
  }),
);
