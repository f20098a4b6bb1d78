// Readiness of a service container on the host's network, asked from this process: a real client
// connects (PostgreSQL with the service's own credentials, Redis PING) every 20 ms. A command run in the
// container (`docker exec pg_isready`) costs ~50–100 ms a try, and a Docker health check goes on
// exec'ing for the container's whole life; this costs a TCP connection a try and ends when it answers.
import pg from "pg";
import type { WaitStrategy } from "testcontainers";
import { respCommands } from "../services/resp.js";
import type { Docker } from "./docker.js";

type Container = Parameters<WaitStrategy["waitUntilReady"]>[0];

/** A probe of a container: resolves true when it answers as it should; false or a throw means not yet. */
export type Probe = (containerId?: string) => Promise<boolean>;

/**
 * Waits until a probe answers. Also the only wait strategy this backend uses: testcontainers' own ones ask
 * the process-wide client, which is not the engine a backend may have been given.
 */
export class ProbeWaitStrategy implements WaitStrategy {
  private timeoutMs = 60_000;
  private timeoutSet = false;

  constructor(
    private readonly what: string,
    private readonly probe: Probe,
    private readonly intervalMs = 20,
    /** A container that runs to its end: its exit is the answer (the probe sees it), not a failure. */
    private readonly oneShot = false,
  ) {}

  withStartupTimeout(ms: number): this {
    this.timeoutMs = ms;
    this.timeoutSet = true;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return this.timeoutSet;
  }

  getStartupTimeout(): number {
    return this.timeoutMs;
  }

  async waitUntilReady(container: Container): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    let last = "";
    for (let i = 1; ; i++) {
      try {
        if (await this.probe(container.id)) return;
      } catch (error) {
        last = String((error as Error)?.message ?? error).split("\n")[0] ?? "";
      }
      // A container that exited will never answer: say so now, not at the deadline.
      if (!this.oneShot && i % 10 === 0) {
        const state = (await container.inspect()).State;
        if (!state.Running)
          throw new Error(`${this.what} exited while starting (exit code ${state.ExitCode})`);
      }
      if (Date.now() >= deadline)
        throw new Error(`${this.what} not ready after ${this.timeoutMs} ms${last ? ` (${last})` : ""}`);
      await new Promise((r) => setTimeout(r, this.intervalMs));
    }
  }
}

/** Ready once started (a container with nothing to ask). */
export const started: Probe = async () => true;

/** Ready when `command` succeeds inside the container (`sh -c`, on the backend's own engine). */
export function commandProbe(docker: Docker, command: string): Probe {
  return async (id) => (await docker.execIn(id!, ["/bin/sh", "-c", command])).exitCode === 0;
}

/** Done when the container exited (a one-off: what it did is checked after). */
export function exitedProbe(docker: Docker): Probe {
  return async (id) => !(await (await docker.container(id!)).inspect()).State.Running;
}

/** PostgreSQL is ready when its user can open its database over TCP (at the engine's address). */
export function postgresProbe(c: {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}): Probe {
  return async () => {
    const client = new pg.Client({ connectionTimeoutMillis: 1000, ...c });
    client.on("error", () => undefined);
    try {
      await client.connect();
      return true;
    } finally {
      await client.end().catch(() => undefined);
    }
  };
}

/** Redis is ready when it answers PING with PONG (authenticated when it has a password). */
export function redisProbe(c: { host: string; port: number; password?: string }): Probe {
  return async () => {
    const target = { host: c.host, port: c.port, ...(c.password ? { password: c.password } : {}) };
    const [pong] = await respCommands(target, [["PING"]]);
    return pong === "PONG";
  };
}
