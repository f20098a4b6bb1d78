import { createServer } from "node:net";
import { GgenError } from "@ggen/contract";
import { defineCommand, type OptionTable } from "@ggen/reporter";
import { parseKeyValues, redactRecord } from "@ggen/support";
import {
  type BackendChoice,
  backendFlag,
  currentEnvironment,
  durationFlag,
  ENV_RULE,
  envFlag,
  envName,
  type LoadedBackend,
  liveEnvironments,
  loadBackend,
  output,
  positiveFlag,
  projectBackends,
} from "../context.js";

/** The flags of the commands that work on one environment's services. */
interface EnvFlags {
  backend: BackendChoice;
  "docker-host"?: string;
  env?: string;
}

export const KNOWN_SERVICES = ["postgres", "redis"];
const DEFAULT_ENV = "default";

const envFlags = (rule: string): OptionTable<EnvFlags> => ({
  ...backendFlag,
  ...envFlag(`The environment (${ENV_RULE} ${rule})`),
});

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

/**
 * Where a service starts: the current environment (--env, CLEANROOM_ENV, the only live one); with none, a
 * new environment `default` — a service must outlive the command, so never a throwaway one.
 */
async function environmentFor(
  argv: EnvFlags,
  out: ReturnType<typeof output>,
  check: (b: LoadedBackend) => void = () => {},
): Promise<{ backend: LoadedBackend; name: string; madeDefault: boolean }> {
  const { backend, choice } = await currentEnvironment({ ...argv, env: envName(argv, "--set-env") }, out, {
    say: false,
  });
  try {
    check(backend);
    if (choice.name) {
      if (choice.note) out.info(`using ${choice.note}`);
      return { backend, name: choice.name, madeDefault: false };
    }
    if (choice.live.length > 1)
      throw new GgenError(
        "CLEANROOM_WHICH_ENV",
        `${choice.live.length} live environments (${choice.live.join(", ")}): name the one for this service with --env`,
        { kind: "usage", hint: "or set CLEANROOM_ENV" },
      );
    if (await backend.environmentStatus(DEFAULT_ENV))
      return { backend, name: DEFAULT_ENV, madeDefault: false };
    await backend.createEnvironment({ name: DEFAULT_ENV });
    out.info(
      `created environment ${DEFAULT_ENV} (${backend.name}): there was no live environment in this project`,
    );
    return { backend, name: DEFAULT_ENV, madeDefault: true };
  } catch (e) {
    await backend.close();
    throw e;
  }
}

/**
 * The environments a service command looks in: the one named (--env, CLEANROOM_ENV), else every
 * environment of the project.
 */
async function serviceScope(
  argv: EnvFlags,
  out: ReturnType<typeof output>,
): Promise<{ backends: LoadedBackend[]; envs: { name: string; backend: LoadedBackend }[]; named: boolean }> {
  const flag = envName(argv);
  if (flag || process.env.CLEANROOM_ENV?.trim()) {
    const { backend, choice } = await currentEnvironment(argv, out);
    return { backends: [backend], envs: [{ name: choice.name!, backend }], named: true };
  }
  const backends = await projectBackends(argv, out);
  return { backends, envs: await liveEnvironments(backends, { all: true }), named: false };
}

/** The one environment holding service `name` in the scope; a usage error naming the choices otherwise. */
async function findService(
  scope: Awaited<ReturnType<typeof serviceScope>>,
  name: string,
): Promise<{ env: string; backend: LoadedBackend }> {
  const holders: { env: string; backend: LoadedBackend }[] = [];
  const known: string[] = [];
  for (const e of scope.envs) {
    const s = await e.backend.environmentStatus(e.name);
    for (const v of s?.services ?? []) {
      known.push(v.name);
      if (v.name === name) holders.push({ env: e.name, backend: e.backend });
    }
  }
  if (holders.length === 1) return holders[0]!;
  const where = scope.named ? `environment ${scope.envs[0]!.name}` : "this project";
  if (holders.length === 0) {
    const { didYouMean } = await import("@ggen/reporter");
    throw new GgenError(
      "CLEANROOM_NO_SERVICE",
      `no service '${name}' in ${where}${didYouMean(name, known)}`,
      {
        kind: "usage",
        ...(known.length ? { hint: `services: ${[...new Set(known)].join(", ")}` } : {}),
      },
    );
  }
  throw new GgenError(
    "CLEANROOM_WHICH_ENV",
    `service '${name}' is in ${holders.length} environments (${holders.map((h) => h.env).join(", ")}): name one with --env`,
    { kind: "usage" },
  );
}

async function closeAll(backends: readonly LoadedBackend[]): Promise<void> {
  for (const b of backends) await b.close();
}

interface StartFlags extends EnvFlags {
  service: string;
  name?: string;
  "set-env"?: string[];
  db?: string;
  user?: string;
  password?: string;
  port?: string;
  "wait-ready": boolean;
  timeout?: string;
}

const start = defineCommand<StartFlags>()({
  command: "start <service>",
  describe: "Start a service (postgres, redis, or an image with testcontainers)",
  positionals: { service: { type: "string", describe: "postgres, redis, or an image name" } },
  options: {
    ...envFlags("a new environment 'default'"),
    name: { type: "string", describe: "Its name (default: the service)" },
    "set-env": {
      type: "string",
      alias: "e",
      array: true,
      describe: "KEY=VALUE for the service (repeatable)",
    },
    db: { type: "string", describe: "Database to create" },
    user: { type: "string", describe: null },
    password: { type: "string", describe: null },
    port: { type: "string", describe: "Host port (refused when in use; default a free one)" },
    "wait-ready": {
      type: "boolean",
      default: true,
      describe: "Return once it accepts connections",
    },
    timeout: {
      type: "string",
      describe: "How long to wait for readiness: 30s, 2m (a bare number is seconds)",
    },
  },
  examples: [
    ["cleanroom container start postgres --db testdb --wait-ready", "PostgreSQL in the current environment"],
    ["cleanroom container start redis --env ci", "Redis in environment ci"],
    [
      "cleanroom container start nginx:1.27 -e NGINX_PORT=8080 --backend testcontainers",
      "An image, with a variable",
    ],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const service = String(argv.service);
    const env = parseKeyValues(argv["set-env"] ?? [], { flag: "--set-env", code: "BAD_ARGUMENT" });
    const timeoutMs = await durationFlag(argv.timeout, "--timeout");
    const port = positiveFlag(argv.port, "--port", { integer: true, max: 65535 });
    if (port !== undefined) await assertPortFree(port);
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
    const {
      backend,
      name: envName,
      madeDefault,
    } = await environmentFor(argv, out, (b) => {
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
        ...(port !== undefined ? { port } : {}),
      };
      let svc: Awaited<ReturnType<typeof backend.startService>>;
      try {
        svc = await backend.startService(envName, spec);
      } catch (e) {
        // The environment made just for this service goes with it.
        if (madeDefault) await backend.deleteEnvironment(DEFAULT_ENV, { force: true }).catch(() => {});
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
    ...envFlags("the environment holding the service; with --all, every environment"),
    all: {
      type: "boolean",
      default: false,
      describe: "Every service of the project (of --env's environment, when given)",
    },
  },
  examples: [
    ["cleanroom container stop postgres", "Stop it"],
    ["cleanroom container stop --all", "Stop every service of the project"],
    ["cleanroom container stop --all --env ci", "Stop everything in ci"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    if (!argv.name && !argv.all)
      throw new GgenError("BAD_ARGUMENT", "give a service name or --all", { kind: "usage" });
    if (argv.name && argv.all)
      throw new GgenError("BAD_ARGUMENT", "give a service name or --all, not both", { kind: "usage" });
    const scope = await serviceScope(argv, out);
    try {
      const stopped: { environment: string; name: string }[] = [];
      if (argv.all) {
        for (const e of scope.envs) {
          const s = await e.backend.environmentStatus(e.name);
          for (const v of s?.services ?? []) {
            await e.backend.stopService(e.name, v.name);
            stopped.push({ environment: e.name, name: v.name });
          }
        }
      } else {
        const holder = await findService(scope, String(argv.name));
        await holder.backend.stopService(holder.env, String(argv.name));
        stopped.push({ environment: holder.env, name: String(argv.name) });
      }
      out.data({ stopped }, () =>
        stopped.length
          ? `stopped ${stopped.map((v) => `${v.name} (${v.environment})`).join(", ")}`
          : "nothing to stop",
      );
    } finally {
      await closeAll(scope.backends);
    }
  },
});

const ls = defineCommand<{ backend: BackendChoice; "docker-host"?: string }>()({
  command: "list",
  describe: "List services in every environment",
  options: backendFlag,
  examples: [["cleanroom container list --json", "As JSON"]],
  handler: async (argv) => {
    const out = output(argv);
    const backend = await loadBackend(argv, out);
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
  options: envFlags("the environment holding the service"),
  examples: [["cleanroom container logs postgres", "Its log"]],
  handler: async (argv) => {
    const out = output(argv);
    const scope = await serviceScope(argv, out);
    try {
      const holder = await findService(scope, String(argv.name));
      const text = await holder.backend.serviceLogs(holder.env, String(argv.name));
      out.data({ name: argv.name, environment: holder.env, logs: text }, () => text);
    } finally {
      await closeAll(scope.backends);
    }
  },
});

const health = defineCommand<EnvFlags & { name: string }>()({
  command: "health <name>",
  describe: "Check that a service answers; exit 1 when it does not",
  positionals: { name: { type: "string", describe: null } },
  options: envFlags("the environment holding the service"),
  examples: [["cleanroom container health postgres", "Healthy?"]],
  handler: async (argv) => {
    const out = output(argv);
    const scope = await serviceScope(argv, out);
    try {
      const holder = await findService(scope, String(argv.name));
      const h = await holder.backend.serviceHealth(holder.env, String(argv.name));
      out.data(
        { ...h, environment: holder.env },
        () => `${argv.name} (${holder.env}): ${h.healthy ? "healthy" : "UNHEALTHY"} (${h.detail})`,
      );
      if (!h.healthy) process.exitCode = 1;
    } finally {
      await closeAll(scope.backends);
    }
  },
});

const prune = defineCommand<{ backend: BackendChoice; "docker-host"?: string; all: boolean }>()({
  command: "prune",
  describe: "Remove what cleanroom started that nothing owns any more",
  options: {
    ...backendFlag,
    all: { type: "boolean", default: false, describe: "Everything cleanroom started" },
  },
  examples: [["cleanroom container prune", "Clean up leftovers"]],
  handler: async (argv) => {
    const out = output(argv);
    const backend = await loadBackend(argv, out);
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
