// Ctrl-C: run cleanups (delete the environment, stop services) before exiting with 130 (143 on SIGTERM).
const cleanups = new Set<() => Promise<void>>();
let installed = false;

/** Register a cleanup run on SIGINT/SIGTERM; returns a function that unregisters it. */
export function onInterrupt(cleanup: () => Promise<void>): () => void {
  cleanups.add(cleanup);
  if (!installed) {
    installed = true;
    const handler = (signal: NodeJS.Signals) => {
      const code = signal === "SIGINT" ? 130 : 143;
      const all = [...cleanups];
      cleanups.clear();
      // A second Ctrl-C while cleaning up exits at once.
      process.once(signal, () => process.exit(code));
      void Promise.allSettled(all.map((c) => c())).then(() => process.exit(code));
    };
    process.once("SIGINT", handler);
    process.once("SIGTERM", handler);
  }
  return () => {
    cleanups.delete(cleanup);
  };
}
