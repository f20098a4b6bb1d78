import { defineConfig, type Options } from "tsup";
import base from "../../tsup.package";

// The package's entry, and the `cargo audit` stand-in ggen's cargo home points its shim at.
export default defineConfig({
  ...(base as Options),
  entry: ["src/index.ts", "src/audit-bin.ts"],
  dts: { entry: "src/index.ts" },
});
