// `ggen gen --watch`: generate, then again whenever a template, a graph or a vars file changes. Changes
// are debounced (an editor's save is several events; a `git checkout` is hundreds), runs never overlap
// (a change during a run queues one more run), and the files a run writes are not taken as changes.
// Every write is atomic, so stopping (the signal) between or during runs leaves no half-written file:
// the run in flight finishes its current file, then watching ends.
import { existsSync, statSync } from "node:fs";
import { dirname, relative, resolve, sep } from "node:path";
import { generate } from "./engine.js";
import { trustedPacks } from "./packs.js";
import { resolveTemplates } from "./resolve.js";
import type { GenerateOptions, GenerateResult } from "./types.js";

export interface WatchRun {
  /** Paths (relative to cwd) whose change started this run; empty for the first run. */
  changed: string[];
  result?: GenerateResult;
  /** The run failed (a template error, a contract violation…): watching goes on. */
  error?: unknown;
}

export interface WatchOptions {
  /** Quiet time after the last change before a run (default 200 ms). */
  debounceMs?: number;
  /** Stops watching (after the run in flight, if any). */
  signal?: AbortSignal;
  onRun: (run: WatchRun) => void;
  /** Called once the watchers are ready, with what is watched (relative to cwd). */
  onReady?: (watched: string[]) => void;
}

/** What a generation reads, to watch: template files' folders, whole packs, graph and vars files. */
async function inputsOf(opts: GenerateOptions): Promise<string[]> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const paths = new Set<string>();
  try {
    const units = await resolveTemplates(
      opts.templates,
      { cwd, ...(opts.packsDir ? { packsDir: opts.packsDir } : {}) },
      trustedPacks(cwd),
    );
    for (const u of units) paths.add(u.pack ? u.pack.dir : dirname(u.file));
  } catch {
    // Not resolvable now (a template being renamed): watch what the user named.
  }
  for (const t of opts.templates)
    if (typeof t === "string" && existsSync(resolve(cwd, t))) paths.add(resolve(cwd, t));
  for (const f of [...(opts.graphs ?? []), ...(opts.varsFiles ?? [])]) paths.add(resolve(cwd, f));
  // A folder inside another watched folder is watched through it.
  const all = [...paths].sort();
  return all.filter((p) => !all.some((q) => q !== p && p.startsWith(q + sep)));
}

/** Generates now, then on every change of the inputs until `signal` aborts. */
export async function watchGenerate(opts: GenerateOptions, w: WatchOptions): Promise<void> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const outRoot = resolve(cwd, opts.outputDir ?? ".");
  const rel = (p: string) => relative(cwd, p) || ".";
  let written = new Set<string>();
  let running: Promise<void> | undefined;
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  // What this session wrote: a file still holding it is the session's own, re-rendered without --force.
  const owned = new Map<string, string>();
  const extra = new Set<string>();
  let watcher: import("chokidar").FSWatcher | undefined;
  const watched = new Set<string>();
  const follow = () => {
    const add = [...extra].filter((p) => !watched.has(p) && ![...watched].some((q) => p.startsWith(q + sep)));
    for (const p of add) watched.add(p);
    if (watcher && add.length) watcher.add(add);
  };
  const runOnce = async (changed: string[]) => {
    try {
      const result = await generate({ ...opts, owned });
      written = new Set(result.files.map((f) => f.absPath));
      for (const f of result.files) if (f.action !== "skipped") owned.set(f.absPath, f.sha256);
      // Graphs a template names with `rdf:` may sit anywhere: watch each the run read.
      for (const g of result.manifest.inputs.graphs) {
        const abs = resolve(cwd, g.path);
        if (!g.path.includes("#rdf_inline") && existsSync(abs)) extra.add(abs);
      }
      if (result.manifestPath) written.add(result.manifestPath);
      w.onRun({ changed, result });
    } catch (e) {
      // Reported, and watching goes on: the next save may fix it.
      w.onRun({ changed, error: e });
    }
  };
  const kick = () => {
    if (stopped || running || pending.size === 0) return;
    const changed = [...pending].map(rel).sort();
    pending = new Set();
    running = runOnce(changed).finally(() => {
      running = undefined;
      follow();
      kick(); // changes that came during the run
    });
  };

  await runOnce([]);
  if (w.signal?.aborted) return;
  const { watch } = await import("chokidar");
  const inputs = await inputsOf(opts);
  const ignored = (p: string) => {
    const abs = resolve(p);
    if (written.has(abs)) return true;
    if (/\.[^/\\]+\.\d+\.[0-9a-f]{12}\.tmp$/.test(abs)) return true; // atomic writes' temp files
    const inOut = abs === outRoot || abs.startsWith(outRoot + sep);
    return inOut && (abs.includes(`${sep}.ggen${sep}`) || abs.endsWith(`${sep}.ggen`));
  };
  for (const p of inputs) watched.add(p);
  watcher = watch(inputs, { ignoreInitial: true, ignored, persistent: true });
  follow();
  const onChange = (p: string) => {
    const abs = resolve(p);
    // A file this tool just wrote (the output dir may sit inside a watched folder) is not a change.
    if (written.has(abs) && existsSync(abs) && statSync(abs).isFile()) return;
    pending.add(abs);
    clearTimeout(timer);
    timer = setTimeout(kick, w.debounceMs ?? 200);
  };
  watcher.on("add", onChange).on("change", onChange).on("unlink", onChange);
  await new Promise<void>((ready) => watcher.once("ready", () => ready()));
  w.onReady?.(inputs.map(rel));
  await new Promise<void>((done) => {
    if (w.signal?.aborted) return done();
    w.signal?.addEventListener("abort", () => done(), { once: true });
  });
  stopped = true;
  clearTimeout(timer);
  await watcher.close();
  await running;
}
