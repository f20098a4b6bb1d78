import { createServer } from "node:net";
import { GgenError } from "@ggen/contract";
import { defineCommand, type OptionTable } from "@ggen/reporter";
import { parseKeyValues, redactRecord } from "@ggen/support";
import {
  type BackendChoice,
  backendFlag,
  backendFor,
  type LoadedBackend,
  loadBackend,
  output,
  requireEnvironment,
  secondsToMs,
} from "../context.js";

/** The flags of the commands that work on one environment's services. */
interface EnvFlags {
  backend: BackendChoice;
  "env-name": string;
}

export const KNOWN_SERVICES = ["postgres", "redis"];
const DEFAULT_ENV = "default";

const envFlags: OptionTable<EnvFlags> = {
  ...backendFlag,
  "env-name": {
    type: "string",
    default: DEFAULT_ENV,
    describe: "The environment the service belongs to (made if it is 'default' and missing)",
  },
};

/** Refuses a port something already listens on, before anything starts. */
export async function assertPortFree(port: number): Promise<void> {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new GgenError("BAD_ARGUMENT", `--port ${port}: expected 1-65535`, { kind: "usage" });
  await new Promise<void>((ok, fail) => {
    const srv = createServer();
    srv.once("error", (e: NodeJS.ErrnoException) =>
      fail(
        e.code === "EADDRINUSE"
          ? new GgenError("PORT_IN_USE", `port ${port} is in use on 127.0.0.1`, {
              kind: "usage",
              hint: "stop what listens there, or leave out --port for a free one",
            })
          : e,
      ),
    );
    srv.listen({ port, host: "127.0.0.1", exclusive: true }, () => srv.close(() => ok()));
  });
}

async function environmentFor(
  argv: EnvFlags,
  out: ReturnType<typeof output>,
  check: (b: LoadedBackend) => void = () => {},
): Promise<LoadedBackend & { madeDefault?: boolean }> {
  const name = argv["env-name"];
  const backend = await backendFor(argv.backend, name, out);
  check(backend);
  if (!(await backend.environmentStatus(name))) {
    if (name !== DEFAULT_ENV) await requireEnvironment(backend, name);
    await backend.createEnvironment({ name: DEFAULT_ENV });
    out.info(`created environment ${DEFAULT_ENV} (${backend.name})`);
    return Object.assign(backend, { madeDefault: true });
  }
  return backend;
}

interface StartFlags extends EnvFlags {
  service: string;
  name?: string;
  env?: string[];
  db?: string;
  user?: string;
  password?: string;
  port?: number;
  "wait-ready": boolean;
  timeout?: number;
}

const start = defineCommand<StartFlags>()({
  command: "start <service>",
  describe: "Start a service (postgres, redis, or an image with testcontainers)",
  positionals: { service: { type: "string", describe: "postgres, redis, or an image name" } },
  options: {
    ...envFlags,
    name: { type: "string", describe: "Its name (default: the service)" },
    env: { type: "string", array: true, describe: "K=V for the service (repeatable)" },
    db: { type: "string", describe: "Database to create" },
    user: { type: "string", describe: null },
    password: { type: "string", describe: null },
    port: { type: "number", describe: "Host port (refused when in use; default a free one)" },
    "wait-ready": {
      type: "boolean",
      default: true,
      describe: "Return once it accepts connections",
    },
    timeout: { type: "number", describe: "Seconds to wait for readiness" },
  },
  examples: [
    ["cleanroom container start postgres --db testdb --wait-ready", "PostgreSQL in the default environment"],
    ["cleanroom container start redis --env-name ci", "Redis in environment ci"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const service = String(argv.service);
    const env = parseKeyValues(argv.env ?? [], { flag: "--env", code: "BAD_ARGUMENT" });
    const timeoutMs = secondsToMs(argv.timeout, "--timeout");
    if (argv.port !== undefined) await assertPortFree(Number(argv.port));
    const isImage = /[:/]/.test(service);
    if (!KNOWN_SERVICES.includes(service) && !isImage) {
      const { didYouMean } = await import("@ggen/reporter");
      throw new GgenError(
        "UNKNOWN_SERVICE",
        `unknown service '${service}'${didYouMean(service, KNOWN_SERVICES)}`,
        {
          kind: "usage",
          hint: `services: ${KNOWN_SERVICES.join(", ")}; or an image like name:tag (testcontainers)`,
        },
      );
    }
    const backend = await environmentFor(argv, out, (b) => {
      if (isImage && b.name === "local")
        throw new GgenError(
          "UNKNOWN_SERVICE",
          `the local backend runs postgres and redis, not images like '${service}'`,
          {
            kind: "usage",
            hint: "use --backend testcontainers (needs Docker)",
          },
        );
    });
    try {
      const spec = {
        // An image runs as a service named after it (registry/ns/name:tag → name).
        kind: isImage ? (service.split("/").pop()?.split(/[:@]/)[0] ?? service) : service,
        ...(isImage ? { image: service } : {}),
        ...(argv.name ? { name: String(argv.name) } : {}),
        ...(Object.keys(env).length ? { env } : {}),
        ...(argv.db ? { database: String(argv.db) } : {}),
        ...(argv.user ? { user: String(argv.user) } : {}),
        ...(argv.password ? { password: String(argv.password) } : {}),
        ...(timeoutMs ? { timeoutMs } : {}),
        ...(argv.port !== undefined ? { port: Number(argv.port) } : {}),
      };
      let svc: Awaited<ReturnType<typeof backend.startService>>;
      try {
        svc = await backend.startService(argv["env-name"], spec);
      } catch (e) {
        // The environment made just for this service goes with it.
        if (backend.madeDefault)
          await backend.deleteEnvironment(DEFAULT_ENV, { force: true }).catch(() => {});
        throw e;
      }
      const safe = { ...svc, url: svc.redactedUrl, env: redactRecord(svc.env) };
      out.data(safe, () =>
        [
          `started ${svc.name} in ${svc.environment} (${backend.name}) at ${svc.redactedUrl}, ready in ${Math.round(svc.readyMs)} ms`,
          ...Object.entries(redactRecord(svc.env)).map(([k, v]) => `  ${k}=${v}`),
        ].join("\n"),
      );
    } finally {
      await backend.close();
    }
  },
});

const stop = defineCommand<EnvFlags & { name?: string; all: boolean }>()({
  command: "stop [name]",
  describe: "Stop a service, or --all",
  positionals: { name: { type: "string", describe: null } },
  options: {
    ...envFlags,
    all: { type: "boolean", default: false, describe: "Every service in the environment" },
  },
  examples: [
    ["cleanroom container stop postgres", "Stop it"],
    ["cleanroom container stop --all --env-name ci", "Stop everything in ci"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    if (!argv.name && !argv.all)
      throw new GgenError("BAD_ARGUMENT", "give a service name or --all", { kind: "usage" });
    const backend = await backendFor(argv.backend, argv["env-name"], out);
    try {
      const s = await requireEnvironment(backend, argv["env-name"]);
      const names = argv.all ? s.services.map((v) => v.name) : [String(argv.name)];
      if (!argv.all && !s.services.some((v) => v.name === names[0])) {
        const { didYouMean } = await import("@ggen/reporter");
        throw new GgenError(
          "CLEANROOM_NO_SERVICE",
          `no service '${names[0]}' in ${s.name}${didYouMean(
            names[0]!,
            s.services.map((v) => v.name),
          )}`,
          { kind: "usage" },
        );
      }
      for (const n of names) await backend.stopService(s.name, n);
      out.data({ stopped: names }, () => (names.length ? `stopped ${names.join(", ")}` : "nothing to stop"));
    } finally {
      await backend.close();
    }
  },
});

const ls = defineCommand<{ backend: BackendChoice }>()({
  command: "list",
  describe: "List services in every environment",
  options: backendFlag,
  examples: [["cleanroom container list --json", "As JSON"]],
  handler: async (argv) => {
    const out = output(argv);
    const backend = await loadBackend(argv.backend, out);
    try {
      const rows: {
        environment: string;
        name: string;
        kind: string;
        endpoint: string;
        readyMs: number;
        healthy?: boolean;
      }[] = [];
      for (const e of await backend.listEnvironments()) {
        const s = await backend.environmentStatus(e.name);
        for (const v of s?.services ?? [])
          rows.push({
            environment: e.name,
            name: v.name,
            kind: v.kind,
            endpoint: v.redactedUrl,
            readyMs: v.readyMs,
          });
      }
      const { table } = await import("@ggen/reporter");
      out.data(rows, () =>
        rows.length === 0
          ? "no services"
          : table(rows, [
              { header: "ENV", value: (r) => r.environment },
              { header: "NAME", value: (r) => r.name },
              { header: "KIND", value: (r) => r.kind },
              { header: "ENDPOINT", value: (r) => r.endpoint },
            ]),
      );
    } finally {
      await backend.close();
    }
  },
});

const logs = defineCommand<EnvFlags & { name: string }>()({
  command: "logs <name>",
  describe: "Print a service's log",
  positionals: { name: { type: "string", describe: null } },
  options: envFlags,
  examples: [["cleanroom container logs postgres", "Its log"]],
  handler: async (argv) => {
    const out = output(argv);
    const backend = await backendFor(argv.backend, argv["env-name"], out);
    try {
      await requireEnvironment(backend, argv["env-name"]);
      const text = await backend.serviceLogs(argv["env-name"], String(argv.name));
      out.data({ name: argv.name, logs: text }, () => text);
    } finally {
      await backend.close();
    }
  },
});

const health = defineCommand<EnvFlags & { name: string }>()({
  command: "health <name>",
  describe: "Check that a service answers",
  positionals: { name: { type: "string", describe: null } },
  options: envFlags,
  examples: [["cleanroom container health postgres", "Healthy?"]],
  handler: async (argv) => {
    const out = output(argv);
    const backend = await backendFor(argv.backend, argv["env-name"], out);
    try {
      await requireEnvironment(backend, argv["env-name"]);
      const h = await backend.serviceHealth(argv["env-name"], String(argv.name));
      out.data(h, () => `${argv.name}: ${h.healthy ? "healthy" : "UNHEALTHY"} (${h.detail})`);
      if (!h.healthy) process.exitCode = 1;
    } finally {
      await backend.close();
    }
  },
});

const prune = defineCommand<{ backend: BackendChoice; all: boolean }>()({
  command: "prune",
  describe: "Remove what cleanroom started that nothing owns any more",
  options: {
    ...backendFlag,
    all: { type: "boolean", default: false, describe: "Everything cleanroom started" },
  },
  examples: [["cleanroom container prune", "Clean up leftovers"]],
  handler: async (argv) => {
    const out = output(argv);
    const backend = await loadBackend(argv.backend, out);
    try {
      const r = await backend.prune({ all: argv.all === true });
      out.data(r, () => (r.removed.length ? `removed ${r.removed.join(", ")}` : "nothing to prune"));
    } finally {
      await backend.close();
    }
  },
});

export const containerCommand = defineCommand()({
  command: "container",
  describe: "Start, stop, list and inspect service containers",
  subcommands: [start, stop, ls, logs, health, prune],
  requireSubcommand: "give a container command: start, stop, list, logs, health or prune",
});
