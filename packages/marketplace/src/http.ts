// One bounded HTTP GET for registries and archives: a connect timeout, an idle timeout (no byte for so
// long), a total timeout and a size cap, each ending the request with a reason the caller puts in its
// message. fetch() offers one signal for all of it and reads a body of any size, so a server that never
// answers or streams /dev/zero held `ggen market` forever; node:http lets each limit be its own.
import type { request as httpRequest, IncomingHttpHeaders } from "node:http";
import { describeLimit, type MarketLimits } from "./limits.js";

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The URL that answered, after redirects. */
  url: string;
}

/** Why a request ended without a usable answer: a sentence for the caller's message. */
export class FetchProblem extends Error {
  constructor(
    message: string,
    readonly kind: "unreachable" | "timeout" | "too-large" | "interrupted",
  ) {
    super(message);
  }
}

export interface GetOptions {
  headers?: Record<string, string>;
  limits: MarketLimits;
  /** The body's cap and the limit it comes from (named in the message). */
  maxBytes: number;
  maxBytesLimit: "maxArchiveBytes" | "maxIndexBytes";
  signal?: AbortSignal;
}

const REDIRECTS = 5;

function errnoText(e: NodeJS.ErrnoException): string {
  return e.code ?? e.message;
}

/** node:http and node:https, loaded on first use: a search over a cached snapshot needs neither,
 * and loading them costs a short command a tenth of its time. */
async function requestFor(url: URL): Promise<typeof httpRequest> {
  return url.protocol === "https:"
    ? (await import("node:https")).request
    : (await import("node:http")).request;
}

async function once(url: URL, o: GetOptions, deadline: number): Promise<HttpResponse> {
  const request = await requestFor(url);
  return new Promise((resolve, reject) => {
    const { limits } = o;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (err: FetchProblem | undefined, value?: HttpResponse) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      o.signal?.removeEventListener("abort", onAbort);
      if (err) {
        req.destroy();
        reject(err);
      } else resolve(value!);
    };
    const onAbort = () => finish(new FetchProblem("interrupted", "interrupted"));
    // agent: false — a fresh socket, so the connect timeout measures this connection.
    const req = request(url, { method: "GET", headers: o.headers ?? {}, agent: false });
    timers.push(
      setTimeout(
        () =>
          finish(
            new FetchProblem(
              `gave up after ${describeLimit("totalTimeoutMs", limits.totalTimeoutMs)}`,
              "timeout",
            ),
          ),
        Math.max(1, deadline - Date.now()),
      ),
    );
    const connectTimer = setTimeout(
      () =>
        finish(
          new FetchProblem(
            `no connection within ${describeLimit("connectTimeoutMs", limits.connectTimeoutMs)}`,
            "timeout",
          ),
        ),
      limits.connectTimeoutMs,
    );
    timers.push(connectTimer);
    req.on("socket", (socket) => {
      const connected = () => {
        clearTimeout(connectTimer);
        // From here on, silence longer than the idle timeout ends the request.
        socket.setTimeout(limits.idleTimeoutMs, () =>
          finish(
            new FetchProblem(
              `no data for ${describeLimit("idleTimeoutMs", limits.idleTimeoutMs)}`,
              "timeout",
            ),
          ),
        );
      };
      if (!socket.connecting) connected();
      else socket.once(url.protocol === "https:" ? "secureConnect" : "connect", connected);
    });
    if (o.signal?.aborted) return onAbort();
    o.signal?.addEventListener("abort", onAbort, { once: true });
    req.on("error", (e) => finish(new FetchProblem(errnoText(e), "unreachable")));
    req.on("response", (res) => {
      const status = res.statusCode ?? 0;
      const done = (body: Buffer) => finish(undefined, { status, headers: res.headers, body, url: url.href });
      // Only a success has a body worth reading; anything else is answered by its status.
      if (status < 200 || status >= 300) {
        res.resume();
        return done(Buffer.alloc(0));
      }
      const tooLarge = () =>
        finish(new FetchProblem(`larger than ${describeLimit(o.maxBytesLimit, o.maxBytes)}`, "too-large"));
      const declared = Number(res.headers["content-length"]);
      if (Number.isFinite(declared) && declared > o.maxBytes) return tooLarge();
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > o.maxBytes) return tooLarge();
        chunks.push(chunk);
      });
      res.on("end", () => done(Buffer.concat(chunks)));
      res.on("error", (e) => finish(new FetchProblem(errnoText(e), "unreachable")));
      res.on("aborted", () => finish(new FetchProblem("the connection closed early", "unreachable")));
    });
    req.end();
  });
}

/** GETs `url` within the limits, following up to 5 redirects (http and https only). */
export async function httpGet(url: string, o: GetOptions): Promise<HttpResponse> {
  const deadline = Date.now() + o.limits.totalTimeoutMs;
  let at = new URL(url);
  for (let hop = 0; ; hop++) {
    const res = await once(at, o, deadline);
    const location = res.headers.location;
    if (![301, 302, 303, 307, 308].includes(res.status) || !location) return res;
    if (hop >= REDIRECTS) throw new FetchProblem(`more than ${REDIRECTS} redirects`, "unreachable");
    const next = new URL(location, at);
    if (next.protocol !== "http:" && next.protocol !== "https:")
      throw new FetchProblem(`redirected to an unsupported scheme (${next.protocol})`, "unreachable");
    at = next;
  }
}
