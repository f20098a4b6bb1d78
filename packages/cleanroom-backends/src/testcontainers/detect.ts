// Does a Docker engine answer? GET /_ping on DOCKER_HOST (unix socket or tcp), else /var/run/docker.sock.
import { existsSync } from "node:fs";
import { request } from "node:http";

export function dockerEndpoint(): { socketPath: string } | { host: string; port: number } | undefined {
  const env = process.env.DOCKER_HOST;
  if (env?.startsWith("unix://")) return { socketPath: env.slice(7) };
  if (env?.startsWith("tcp://")) {
    const u = new URL(env.replace(/^tcp:/, "http:"));
    return { host: u.hostname, port: Number(u.port || 2375) };
  }
  if (existsSync("/var/run/docker.sock")) return { socketPath: "/var/run/docker.sock" };
  return undefined;
}

/** A reason string when Docker is unusable, undefined when it answers. */
export function dockerUnavailable(timeoutMs = 1500): Promise<string | undefined> {
  const endpoint = dockerEndpoint();
  if (!endpoint) return Promise.resolve("no DOCKER_HOST and no /var/run/docker.sock");
  return new Promise((resolve) => {
    const req = request({ ...endpoint, path: "/_ping", method: "GET", timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? undefined : `Docker answered ${res.statusCode} on /_ping`);
    });
    req.on("timeout", () => {
      req.destroy();
      resolve(`Docker did not answer within ${timeoutMs} ms`);
    });
    req.on("error", (error) => resolve(`Docker unreachable (${error.message})`));
    req.end();
  });
}
