// Service containers: PostgreSQL and Redis (or any image), started in the environment's network with a
// readiness check, then health, snapshot and reset through the programs inside them (psql, redis-cli).
import { randomBytes } from "node:crypto";
import { freePort, GgenError, redactUrl } from "@ggen/support";
import type { StartedTestContainer } from "testcontainers";
import type { ServiceSpec } from "../backend.js";
import type { ServiceInstance } from "../state/records.js";
import type { ServiceRecord } from "../state/store.js";
import { CleanroomContainer, type Docker } from "./docker.js";
import { commandProbe, ProbeWaitStrategy, postgresProbe, redisProbe } from "./probe.js";

export type ContainerService = ServiceRecord & { container: NonNullable<ServiceRecord["container"]> };

/**
 * Starts the container for `spec`, ready (or past its start timeout: an error), and how to reach it: on
 * the engine's host network at the engine's address (this machine's loopback for a local engine), or at
 * 127.0.0.1 inside an isolated environment's network. On a remote engine's host a service listens on every
 * address (else nothing off that host reaches it), and Redis gets a password when none was given.
 */
export async function startServiceContainer(
  docker: Docker,
  wanted: ServiceSpec,
  o: { network: string; isolated: boolean; labels: Record<string, string>; timeoutMs: number },
): Promise<ServiceInstance & { container: NonNullable<ServiceRecord["container"]> }> {
  const t0 = performance.now();
  const image = await docker.resolveImage(wanted.kind, wanted.image);
  const host = o.isolated ? "127.0.0.1" : docker.serviceHost;
  const exposed = !o.isolated && docker.remote;
  const listen = exposed ? "0.0.0.0" : "127.0.0.1";
  const spec: ServiceSpec =
    exposed && wanted.kind === "redis" && !wanted.password
      ? { ...wanted, password: randomBytes(12).toString("hex") }
      : wanted;
  let container: CleanroomContainer;
  let port: number;
  let url: string;
  let env: Record<string, string>;
  let extra: { user?: string; password?: string; database?: string } = {};
  if (spec.kind === "postgres") {
    const user = spec.user ?? "test";
    const password = spec.password ?? randomBytes(12).toString("hex");
    const database = spec.database ?? "test";
    port = spec.port ?? (o.isolated ? 5432 : await freePort());
    container = new CleanroomContainer(image)
      .withEnvironment({
        POSTGRES_USER: user,
        POSTGRES_PASSWORD: password,
        POSTGRES_DB: database,
        PGPORT: String(port),
        ...(spec.env ?? {}),
      })
      .withCommand([
        "postgres",
        "-c",
        `listen_addresses=${listen}`,
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "full_page_writes=off",
      ])
      // Ready when its user can open its database: asked from here over the host's loopback (a real
      // connection every 20 ms), or with pg_isready inside an isolated environment's network. Polled
      // while starting only: a Docker health check would go on exec'ing for the container's whole life
      // (half a core at 100 ms, taken from the tests). Over TCP, so the official image's socket-only
      // init server does not count as ready.
      .withWaitStrategy(
        o.isolated
          ? new ProbeWaitStrategy(
              "postgres",
              commandProbe(
                docker,
                `pg_isready -q -h 127.0.0.1 -p ${port} -U ${shellQuote(user)} -d ${shellQuote(database)}`,
              ),
              100,
            )
          : new ProbeWaitStrategy("postgres", postgresProbe({ host, port, user, password, database })),
      );
    url = `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${urlHost(host)}:${port}/${encodeURIComponent(database)}`;
    env = {
      DATABASE_URL: url,
      PGHOST: host,
      PGPORT: String(port),
      PGUSER: user,
      PGPASSWORD: password,
      PGDATABASE: database,
    };
    extra = { user, password, database };
  } else if (spec.kind === "redis") {
    port = spec.port ?? (o.isolated ? 6379 : await freePort());
    const args = [
      "redis-server",
      "--port",
      String(port),
      "--bind",
      listen,
      "--save",
      "",
      "--appendonly",
      "no",
    ];
    if (spec.password) args.push("--requirepass", spec.password);
    container = new CleanroomContainer(image)
      .withCommand(args)
      .withEnvironment(spec.env ?? {})
      .withWaitStrategy(
        o.isolated
          ? new ProbeWaitStrategy(
              "redis",
              commandProbe(
                docker,
                `redis-cli -p ${port} ${spec.password ? '-a "$REDIS_PASSWORD" --no-auth-warning' : ""} ping | grep -q PONG`,
              ),
              100,
            )
          : new ProbeWaitStrategy(
              "redis",
              redisProbe({ host, port, ...(spec.password ? { password: spec.password } : {}) }),
            ),
      );
    if (spec.password)
      container = container.withEnvironment({ REDIS_PASSWORD: spec.password, ...(spec.env ?? {}) });
    url = `redis://${spec.password ? `:${encodeURIComponent(spec.password)}@` : ""}${urlHost(host)}:${port}`;
    env = { REDIS_URL: url, REDIS_HOST: host, REDIS_PORT: String(port) };
    if (spec.password) extra = { password: spec.password };
  } else {
    // Any other image: started as is, ready when its container health check (if any) passes.
    if (!spec.image) {
      throw new GgenError(
        "CLEANROOM_SERVICE_KIND",
        `unknown service ${JSON.stringify(spec.kind)} and no image given`,
        {
          kind: "usage",
          hint: "services: postgres, redis, or any image with --image",
        },
      );
    }
    port = 0;
    container = new CleanroomContainer(image).withEnvironment(spec.env ?? {});
    url = "";
    env = {};
  }
  const started: StartedTestContainer = await container
    .withNetworkMode(o.network)
    .withLabels(o.labels)
    .withStartupTimeout(o.timeoutMs)
    .withAutoRemove(false)
    .startOn(await docker.client());
  return {
    container: { id: started.getId(), image, port, host, ...extra },
    url,
    redactedUrl: redactUrl(url),
    env,
    readyMs: Math.round(performance.now() - t0),
  };
}

export async function containerHealth(
  docker: Docker,
  svc: ContainerService,
): Promise<{ healthy: boolean; detail: string }> {
  if (!(await docker.running(svc.container.id)))
    return { healthy: false, detail: "container is not running" };
  const c = svc.container;
  if (svc.kind === "postgres") {
    const r = await docker.execIn(c.id, [
      "pg_isready",
      "-h",
      "127.0.0.1",
      "-p",
      String(c.port),
      "-U",
      c.user ?? "test",
      "-d",
      c.database ?? "test",
    ]);
    return { healthy: r.exitCode === 0, detail: r.output.trim() };
  }
  if (svc.kind === "redis") {
    const r = await docker.execIn(c.id, redisCli(c, "ping"));
    return { healthy: r.output.includes("PONG"), detail: r.output.trim() };
  }
  const info = await (await docker.container(c.id)).inspect();
  const health = info.State.Health?.Status;
  return {
    healthy: health ? health === "healthy" : info.State.Running,
    detail: health ?? info.State.Status,
  };
}

/** PostgreSQL: the current database becomes what reset returns to (a template database). */
export async function snapshotContainer(docker: Docker, svc: ContainerService): Promise<void> {
  if (svc.kind !== "postgres") return;
  const db = svc.container.database ?? "test";
  const snap = ident(`${db}__cleanroom_snapshot`.slice(0, 63));
  await psql(docker, svc, `DROP DATABASE IF EXISTS ${snap}`);
  await psql(
    docker,
    svc,
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db.replaceAll("'", "''")}' AND pid <> pg_backend_pid()`,
  );
  await psql(docker, svc, `CREATE DATABASE ${snap} TEMPLATE ${ident(db)} STRATEGY FILE_COPY`);
}

/** PostgreSQL back to its snapshot (or empty), Redis FLUSHALL. */
export async function resetContainer(docker: Docker, svc: ContainerService): Promise<void> {
  const c = svc.container;
  if (svc.kind === "postgres") {
    const db = c.database ?? "test";
    const snapName = `${db}__cleanroom_snapshot`.slice(0, 63);
    const r = await docker.execIn(
      c.id,
      psqlArgv(c, ["-tA"], `SELECT count(*) FROM pg_database WHERE datname = '${snapName}'`),
      { PGPASSWORD: c.password ?? "" },
    );
    const template = r.output.trim() === "1" ? snapName : "template1";
    await psql(docker, svc, `DROP DATABASE IF EXISTS ${ident(db)} WITH (FORCE)`);
    await psql(
      docker,
      svc,
      `CREATE DATABASE ${ident(db)} OWNER ${ident(c.user ?? "test")} TEMPLATE ${ident(template)} STRATEGY FILE_COPY`,
    );
  } else if (svc.kind === "redis") {
    const r = await docker.execIn(c.id, redisCli(c, "FLUSHALL"));
    if (!r.output.includes("OK"))
      throw new GgenError("CLEANROOM_REDIS_RESET", `FLUSHALL failed: ${r.output.trim()}`);
  } else {
    throw new GgenError("CLEANROOM_RESET", `no reset for service kind ${svc.kind}`, { kind: "usage" });
  }
}

function redisCli(c: ContainerService["container"], command: string): string[] {
  return [
    "redis-cli",
    "-p",
    String(c.port),
    "--no-auth-warning",
    ...(c.password ? ["-a", c.password] : []),
    command,
  ];
}

async function psql(docker: Docker, svc: ContainerService, sql: string): Promise<void> {
  const c = svc.container;
  const r = await docker.execIn(c.id, psqlArgv(c, ["-v", "ON_ERROR_STOP=1"], sql), {
    PGPASSWORD: c.password ?? "",
  });
  if (r.exitCode !== 0) {
    throw new GgenError("CLEANROOM_PG_RESET", `psql failed in ${svc.name}: ${r.output.trim()}`);
  }
}

/** psql inside the container, as the service's user, on its maintenance database. */
function psqlArgv(c: ContainerService["container"], flags: string[], sql: string): string[] {
  const at = ["-h", "127.0.0.1", "-p", String(c.port), "-U", c.user ?? "test", "-d", "postgres"];
  return ["psql", ...flags, ...at, "-c", sql];
}

/** A host as a URL names it (an IPv6 address in brackets). */
function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** One word for `sh -c`, whatever it holds. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
