// The graph host: a worker thread that holds every oxigraph store and runs every load and query, so that
// a query past its time limit can be stopped — oxigraph's engine is synchronous WebAssembly, and the only
// sound way to stop it is to end the thread it runs on (client.ts does, and starts a new host).
//
// Two channels: loads (asynchronous, on the worker's own port) and calls the client waits for (queries,
// updates, dumps — on `port`, with `flag` saying when one has started and when its answer is posted).
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import { isGgenError } from "@ggen/support";
import { loadOxigraph } from "./engine.js";
import { isTrap } from "./errors.js";
import { clearStores, type OxGraph, storeStats } from "./graph.js";
import { loadStore } from "./load.js";
import {
  CALL_DONE,
  CALL_STARTED,
  type CallAnswer,
  type CallRequest,
  type GraphMeta,
  type LoadRequest,
  type WireError,
} from "./wire.js";

// wasm-bindgen's panic hook prints the Rust panic and a stack with console.error; keep its first line
// for the one-line error instead (the thread has nothing else to say on stderr).
let panic: string | undefined;
console.error = (...args: unknown[]) => {
  const text = args.map(String).join(" ");
  panic = /panicked at [^\n]*\n([^\n]+)/.exec(text)?.[1] ?? text.split("\n")[0];
};

const graphs = new Map<number, OxGraph>();
let nextHandle = 1;

function register(g: OxGraph): GraphMeta {
  const handle = nextHandle++;
  graphs.set(handle, g);
  return { handle, hash: g.hash, prefixes: g.prefixes, base: g.base };
}

function graph(handle: number): OxGraph {
  const g = graphs.get(handle);
  if (!g) throw Object.assign(new Error(`no graph ${handle}`), { code: "GRAPH_FREED" });
  return g;
}

function wire(e: unknown, file: string | undefined): WireError {
  if (isTrap(e)) {
    const why = panic ?? (e instanceof Error ? e.message : String(e));
    panic = undefined;
    return {
      code: "RDF_ENGINE",
      message: `the RDF engine failed: ${why}`,
      ...(file ? { location: { file } } : {}),
      trapped: true,
    };
  }
  if (isGgenError(e)) {
    const w: WireError = { code: e.code, message: e.message, kind: e.kind };
    if (e.location) w.location = e.location;
    if (e.hint) w.hint = e.hint;
    return w;
  }
  const err = e as { code?: string; message?: string };
  return {
    code: typeof err.code === "string" ? err.code : "RDF_INTERNAL",
    message: String(err.message ?? e),
  };
}

function call(m: CallRequest): unknown {
  switch (m.op) {
    case "query": {
      const services: Record<string, OxGraph> = {};
      for (const [endpoint, h] of Object.entries(m.services ?? {})) services[endpoint] = graph(h);
      const r = graph(m.handle).raw(m.query, m.services ? { ...m.options, services } : m.options);
      return r.type === "graph" ? { type: "graph", meta: register(r.graph) } : r;
    }
    case "update": {
      const g = graph(m.handle);
      g.update(m.update, m.options);
      return g.hash;
    }
    case "dump":
      return graph(m.handle).dump(m.format);
    case "size":
      return graph(m.handle).size;
    case "stats":
      return storeStats();
    case "clear":
      clearStores();
      return true;
  }
}

/**
 * oxigraph's WebAssembly is compiled function by function on first use (and the hot ones again, optimized,
 * after enough calls), and a first load and query of even a small graph spend most of their time there:
 * done once ahead, on a small graph with literals of each kind (a larger one only delays the first real
 * load, which often arrives while this runs), while the caller is still busy.
 */
const WARM_SUBJECTS = 40;
/** Loads asked for so far: once one is, the warm-up stops (the load compiles what it needs itself, sooner). */
let loadsAsked = 0;
async function warm(): Promise<void> {
  try {
    await loadOxigraph();
  } catch {
    return; // the real load reports it
  }
  if (loadsAsked > 0) return;
  const lines: string[] = [];
  for (let i = 0; i < WARM_SUBJECTS; i++) {
    const s = `<urn:ggen:warm:s${i}>`;
    lines.push(
      `${s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <urn:ggen:warm:C${i % 7}> .`,
      `${s} <urn:ggen:warm:label> "s ${i}"@en .`,
      `${s} <urn:ggen:warm:n> "${i}"^^<http://www.w3.org/2001/XMLSchema#integer> .`,
      `${s} <urn:ggen:warm:next> <urn:ggen:warm:s${(i * 7) % WARM_SUBJECTS}> .`,
    );
  }
  try {
    const g = await loadStore(
      [{ text: `${lines.join("\n")}\n`, format: "ntriples", name: "warm-up" }],
      { cache: false },
      { maxSourceBytes: 1 << 20, fetchConnectMs: 1, fetchIdleMs: 1, fetchTotalMs: 1 },
    );
    if (loadsAsked > 0) return g.free();
    g.raw("SELECT ?s ?c ?l WHERE { ?s a ?c ; <urn:ggen:warm:label> ?l } ORDER BY ?c ?s", {});
    g.raw(
      "SELECT ?c (COUNT(?s) AS ?k) (AVG(?n) AS ?a) WHERE { ?s a ?c OPTIONAL { ?s <urn:ggen:warm:n> ?n FILTER(?n > 3) } } GROUP BY ?c ORDER BY ?c",
      {},
    );
    g.free();
  } catch {
    // Only a head start: the real load reports whatever is wrong.
  }
}

const { port, shared } = workerData as { port: MessagePort; shared: SharedArrayBuffer };
const state = new Int32Array(shared, 0, 1);
const startedAt = new Float64Array(shared, 8, 1);

port.on("message", (m: CallRequest) => {
  // No wake-up for the start: the client reads startedAt when its wait for the answer times out.
  startedAt[0] = Date.now();
  Atomics.store(state, 0, CALL_STARTED);
  let answer: CallAnswer;
  try {
    answer = { ok: call(m) };
  } catch (e) {
    answer = { error: wire(e, "options" in m ? m.options.name : undefined) };
  }
  port.postMessage(answer);
  Atomics.store(state, 0, CALL_DONE);
  Atomics.notify(state, 0);
});

parentPort?.on("message", async (m: LoadRequest) => {
  if (m.op === "warm") {
    await warm();
    return;
  }
  if (m.op === "load") loadsAsked++;
  if (m.op === "free") {
    graphs.get(m.handle)?.free();
    graphs.delete(m.handle);
    return;
  }
  try {
    const g = await loadStore(m.sources, m.options, m.limits);
    parentPort?.postMessage({ id: m.id, ok: register(g) });
  } catch (e) {
    const one = m.sources.length === 1 ? m.sources[0] : undefined;
    const file = one ? ("path" in one ? one.path : "url" in one ? one.url : one.name) : undefined;
    parentPort?.postMessage({ id: m.id, error: wire(e, file) });
  }
});
