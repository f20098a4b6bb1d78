// Which Docker engine, and does it answer? An engine is named the way DOCKER_HOST names one
// (`unix:///path/docker.sock`, `tcp://host:2375`; DOCKER_TLS_VERIFY + DOCKER_CERT_PATH make tcp TLS). A
// backend may be given one explicitly (one engine per shard), else config.toml's `docker_host`, else
// DOCKER_HOST, else /var/run/docker.sock. GET /_ping says whether it answers — without loading
// testcontainers, so `auto` stays fast.
import { existsSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { GgenError } from "@ggen/support";

export type EngineEndpoint =
  | { url: string; socketPath: string }
  | { url: string; host: string; port: number; tls?: { ca: Buffer; cert: Buffer; key: Buffer } };

/** The engine a backend uses: the one given, else DOCKER_HOST, else the system socket (undefined: none). */
export function engineUrl(given?: string): string | undefined {
  if (given) return given;
  if (process.env.DOCKER_HOST) return process.env.DOCKER_HOST;
  return existsSync("/var/run/docker.sock") ? "unix:///var/run/docker.sock" : undefined;
}

/** How to reach the engine at `url`; a usage error for a form that is not an engine address. */
export function engineEndpoint(url: string): EngineEndpoint {
  if (url.startsWith("unix://")) return { url, socketPath: url.slice("unix://".length) };
  const m = /^tcp:\/\/([^/:]+|\[[0-9a-fA-F:]+\])(?::(\d+))?\/?$/.exec(url);
  if (!m) {
    throw new GgenError("CLEANROOM_ENGINE", `not a Docker engine address: ${JSON.stringify(url)}`, {
      kind: "usage",
      hint: "unix:///path/to/docker.sock or tcp://host:port",
    });
  }
  const tlsOn = process.env.DOCKER_TLS_VERIFY !== undefined && process.env.DOCKER_TLS_VERIFY !== "";
  const certs = process.env.DOCKER_CERT_PATH ?? join(process.env.HOME ?? "", ".docker");
  return {
    url,
    host: m[1]!.replace(/^\[|\]$/g, ""),
    port: Number(m[2] ?? (tlsOn ? 2376 : 2375)),
    ...(tlsOn
      ? {
          tls: {
            ca: readFileSync(join(certs, "ca.pem")),
            cert: readFileSync(join(certs, "cert.pem")),
            key: readFileSync(join(certs, "key.pem")),
          },
        }
      : {}),
  };
}

/**
 * The address this machine (and a command on the engine's host network) reaches a service on the
 * engine's host network at: the tcp engine's host, or — for a socket, which is on this machine —
 * TESTCONTAINERS_HOST_OVERRIDE, else 127.0.0.1.
 */
export function engineHost(url: string | undefined): string {
  const endpoint = url ? engineEndpoint(url) : undefined;
  if (endpoint && "host" in endpoint) return endpoint.host === "localhost" ? "127.0.0.1" : endpoint.host;
  return process.env.TESTCONTAINERS_HOST_OVERRIDE || "127.0.0.1";
}

/** Is the engine's host another machine (services must then listen beyond loopback)? */
export function engineIsRemote(url: string | undefined): boolean {
  const host = engineHost(url);
  return !(host === "127.0.0.1" || host === "::1" || host.startsWith("127."));
}

/** A reason string when the engine is unusable, undefined when it answers. */
export function dockerUnavailable(timeoutMs = 1500, engine?: string): Promise<string | undefined> {
  const url = engineUrl(engine);
  if (!url) return Promise.resolve("no DOCKER_HOST and no /var/run/docker.sock");
  let endpoint: EngineEndpoint;
  try {
    endpoint = engineEndpoint(url);
  } catch (error) {
    return Promise.resolve((error as Error).message);
  }
  return new Promise((resolve) => {
    const options = {
      ...("socketPath" in endpoint
        ? { socketPath: endpoint.socketPath }
        : { host: endpoint.host, port: endpoint.port, ...(endpoint.tls ?? {}) }),
      path: "/_ping",
      method: "GET",
      timeout: timeoutMs,
    };
    const request = "tls" in endpoint && endpoint.tls ? httpsRequest : httpRequest;
    const req = request(options, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? undefined : `Docker at ${url} answered ${res.statusCode} on /_ping`);
    });
    req.on("timeout", () => {
      req.destroy();
      resolve(`Docker at ${url} did not answer within ${timeoutMs} ms`);
    });
    req.on("error", (error) => resolve(`Docker at ${url} unreachable (${error.message})`));
    req.end();
  });
}
