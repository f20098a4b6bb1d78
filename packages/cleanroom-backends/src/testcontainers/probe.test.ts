import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { ProbeWaitStrategy, redisProbe } from "./probe.js";

type Container = Parameters<ProbeWaitStrategy["waitUntilReady"]>[0];
const container = (running: () => boolean, exitCode = 3) =>
  ({ inspect: async () => ({ State: { Running: running(), ExitCode: exitCode } }) }) as unknown as Container;

describe("probe wait strategy (no Docker)", () => {
  it("returns as soon as the probe answers", async () => {
    let tries = 0;
    const wait = new ProbeWaitStrategy("svc", async () => ++tries >= 3, 1);
    await wait.waitUntilReady(container(() => true));
    expect(tries).toBe(3);
  });

  it("a container that exited fails at once, with its exit code, not at the deadline", async () => {
    const wait = new ProbeWaitStrategy("postgres", async () => false, 1).withStartupTimeout(60_000);
    const t0 = Date.now();
    await expect(wait.waitUntilReady(container(() => false, 3))).rejects.toThrow(
      "postgres exited while starting (exit code 3)",
    );
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it("a service that never answers fails at the deadline with the last reason", async () => {
    const wait = new ProbeWaitStrategy(
      "redis",
      async () => {
        throw new Error("connect ECONNREFUSED 127.0.0.1:1\nmore");
      },
      1,
    ).withStartupTimeout(50);
    expect(wait.isStartupTimeoutSet()).toBe(true);
    expect(wait.getStartupTimeout()).toBe(50);
    await expect(wait.waitUntilReady(container(() => true))).rejects.toThrow(
      "redis not ready after 50 ms (connect ECONNREFUSED 127.0.0.1:1)",
    );
  });

  it("redisProbe: PONG is ready; an error reply (a password wanted) is not", async () => {
    const server = createServer((s) =>
      s.on("data", (d) =>
        s.write(d.includes("PING") ? (d.includes("AUTH") ? "+OK\r\n+PONG\r\n" : "-NOAUTH\r\n") : ""),
      ),
    );
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const port = (server.address() as { port: number }).port;
    try {
      expect(await redisProbe({ host: "127.0.0.1", port, password: "pw" })()).toBe(true);
      expect(await redisProbe({ host: "127.0.0.1", port })()).toBe(false);
    } finally {
      await new Promise((ok) => server.close(ok));
    }
  });
});
