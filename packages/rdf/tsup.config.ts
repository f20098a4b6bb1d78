import { defineConfig } from "tsup";
import base from "../../tsup.package";

// The public entry, and the graph host: the worker thread that runs oxigraph (src/host.ts, see client.ts).
export default defineConfig({ ...base, entry: ["src/index.ts", "src/host.ts"] });
