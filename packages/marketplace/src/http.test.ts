// httpGet against real loopback servers that misbehave: silent, endless, slow, oversized, redirecting.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FetchProblem, httpGet } from "./http.js";
import { DEFAULT_MARKET_LIMITS, type MarketLimits } from "./limits.js";

let server: Server;
let base: string;
const timers: NodeJS.Timeout[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/silent") return; // accepts, never answers
    if (req.url === "/endless") {
      res.writeHead(200);
      const zeros = Buffer.alloc(64 << 10);
      const pump = () => {
        while (res.write(zeros)) {}
      };
      res.on("drain", pump);
      res.on("close", () => res.off("drain", pump));
      return pump();
    }
    if (req.url === "/drip") {
      res.writeHead(200);
      const t = setInterval(() => res.write("x"), 20);
      timers.push(t);
      res.on("close", () => clearInterval(t));
      return;
    }
    if (req.url === "/huge") {
      res.writeHead(200, { "content-length": String(100 << 20) });
      return res.write("x");
    }
    if (req.url === "/moved") {
      res.writeHead(302, { location: "/ok" });
      return res.end();
    }
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("fine");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const t of timers) clearInterval(t);
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const limits = (l: Partial<MarketLimits> = {}): MarketLimits => ({ ...DEFAULT_MARKET_LIMITS, ...l });

async function problem(path: string, l: Partial<MarketLimits>, maxBytes = 1 << 20, signal?: AbortSignal) {
  try {
    await httpGet(`${base}${path}`, {
      limits: limits(l),
      maxBytes,
      maxBytesLimit: "maxArchiveBytes",
      ...(signal ? { signal } : {}),
    });
  } catch (e) {
    expect(e).toBeInstanceOf(FetchProblem);
    return e as FetchProblem;
  }
  throw new Error("expected the request to fail");
}

describe("httpGet", () => {
  it("reads a small answer and follows a redirect", async () => {
    const r = await httpGet(`${base}/moved`, {
      limits: limits(),
      maxBytes: 100,
      maxBytesLimit: "maxIndexBytes",
    });
    expect(r).toMatchObject({ status: 200, url: `${base}/ok` });
    expect(r.body.toString()).toBe("fine");
  });

  it("ends a server that never answers at the idle timeout, naming how to change it", async () => {
    const p = await problem("/silent", { idleTimeoutMs: 300 });
    expect(p.kind).toBe("timeout");
    expect(p.message).toBe(
      "no data for 0.3 s; GGEN_MARKET_IDLE_TIMEOUT or [marketplace] idle_timeout in .ggen/config.toml",
    );
  });

  it("ends an endless body at the size cap, and a declared oversize before reading it", async () => {
    const endless = await problem("/endless", {}, 1 << 20);
    expect(endless.kind).toBe("too-large");
    expect(endless.message).toMatch(/^larger than 1 MiB; GGEN_MARKET_MAX_ARCHIVE/);
    expect((await problem("/huge", {})).kind).toBe("too-large");
  });

  it("ends a slow drip at the total timeout, though no single gap is long", async () => {
    const p = await problem("/drip", { idleTimeoutMs: 5_000, totalTimeoutMs: 400 });
    expect(p.message).toMatch(/^gave up after 0.4 s; GGEN_MARKET_TIMEOUT/);
  });

  it("stops at once when its signal is aborted", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    expect((await problem("/silent", {}, 100, ac.signal)).kind).toBe("interrupted");
  });
});
