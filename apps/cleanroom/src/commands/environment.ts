import { resolve } from "node:path";
import { GgenError } from "@ggen/contract";
import { defineCommand } from "@ggen/reporter";
import { redactRecord } from "@ggen/support";
import {
  type BackendChoice,
  backendFlag,
  backendFor,
  currentEnvironment,
  ENV_RULE,
  list,
  loadBackend,
  output,
  positiveFlag,
  projectRoot,
  requireEnvironment,
} from "../context.js";

function isolationText(i: {
  network: boolean;
  pid: boolean;
  filesystem: boolean;
  limits: boolean;
  mechanism?: string;
}) {
  const on = Object.entries(i)
    .filter(([k, v]) => k !== "mechanism" && v === true)
    .map(([k]) => k);
  return `${on.length ? on.join(", ") : "none"}${i.mechanism ? ` (${i.mechanism})` : ""}`;
}

/** `host:target[:ro|rw]` → a mount; the host path must exist. */
function parseMount(spec: string): { host: string; target: string; writable: boolean } {
  const parts = spec.split(":");
  const mode = parts.length > 2 && (parts.at(-1) === "ro" || parts.at(-1) === "rw") ? parts.pop() : undefined;
  const [host, target] = parts.length === 2 ? parts : [parts[0], undefined];
  if (!host || !target)
    throw new GgenError("BAD_ARGUMENT", `--mount ${spec}: expected host:/target[:ro|rw]`, { kind: "usage" });
  return { host: resolve(host), target, writable: mode !== "ro" };
}

interface CreateFlags {
  backend: BackendChoice;
  "docker-host"?: string;
  name: string;
  isolated?: boolean;
  persistent: boolean;
  memory?: string;
  cpus?: string;
  mount?: string[];
  workspace: boolean;
  cache?: ("npm" | "cargo")[];
}

const create = defineCommand<CreateFlags>()({
  command: "create",
  describe: "Create an environment",
  options: {
    ...backendFlag,
    name: { type: "string", alias: "env", required: true, describe: "Its name (also --env)" },
    isolated: {
      type: "boolean",
      describe: "No network but loopback, own PID namespace (default: config.toml's default_isolated)",
    },
    persistent: { type: "boolean", default: false, describe: "Share services across runs" },
    memory: { type: "string", describe: "Memory limit: 512M, 4G (a bare number is MiB)" },
    cpus: { type: "string", describe: "CPU limit (1.5 = one and a half CPUs)" },
    mount: {
      type: "string",
      array: true,
      describe: "host:/target[:ro|rw] (repeatable; default .:/workspace)",
    },
    workspace: {
      type: "boolean",
      default: true,
      describe: "Mount the project at /workspace when no --mount is given",
    },
    cache: {
      type: "string",
      array: true,
      choices: ["npm", "cargo"],
      describe: "Give commands a package cache (copy-on-write: the shared cache is never written)",
    },
  },
  examples: [
    [
      "cleanroom environment create --name ci --isolated --mount .:/workspace",
      "An isolated environment with the project",
    ],
    ["cleanroom environment create --name dev --persistent --cache npm", "One whose services are shared"],
    ["cleanroom environment create --name big --memory 4G --cpus 2", "With limits"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    // Without --mount, the project is mounted at workspace/ so `test run --env` sees it.
    const mounts = list(argv.mount).map(parseMount);
    if (mounts.length === 0 && argv.workspace !== false)
      mounts.push({ host: projectRoot(), target: "workspace", writable: true });
    const { parseSize } = await import("@ggen/support");
    const memoryMb =
      argv.memory === undefined
        ? undefined
        : Math.max(1, Math.round(parseSize(argv.memory, { flag: "--memory", bare: "M" }) / 1024 / 1024));
    const cpus = positiveFlag(argv.cpus, "--cpus");
    const backend = await loadBackend(argv, out);
    try {
      const env = await backend.createEnvironment({
        name: argv.name,
        ...(argv.isolated !== undefined ? { isolated: argv.isolated } : {}),
        persistent: argv.persistent === true,
        ...(memoryMb !== undefined ? { memoryMb } : {}),
        ...(cpus !== undefined ? { cpus } : {}),
        ...(mounts.length ? { mounts } : {}),
        ...(list(argv.cache).length ? { caches: list(argv.cache) as ("npm" | "cargo")[] } : {}),
      });
      out.data(
        env,
        () =>
          `created environment ${env.name} (${env.backend}); isolation: ${isolationText(env.isolation)}\n  workdir ${env.workdir}`,
      );
    } finally {
      await backend.close();
    }
  },
});

const del = defineCommand<{ backend: BackendChoice; "docker-host"?: string; name: string; force: boolean }>()(
  {
    command: "delete",
    describe: "Delete an environment, its services and files",
    options: {
      ...backendFlag,
      name: { type: "string", alias: "env", required: true, describe: "Which one (also --env)" },
      force: { type: "boolean", default: false, describe: "Even with services running" },
    },
    examples: [["cleanroom environment delete --name ci --force", "Stop its services and remove it"]],
    handler: async (argv) => {
      const out = output(argv);
      const backend = await backendFor(argv, argv.name, out);
      try {
        await requireEnvironment(backend, argv.name);
        await backend.deleteEnvironment(argv.name, { force: argv.force === true });
        out.data({ deleted: argv.name }, () => `deleted environment ${argv.name}`);
      } finally {
        await backend.close();
      }
    },
  },
);

const ls = defineCommand<{ backend: BackendChoice; "docker-host"?: string }>()({
  command: "list",
  describe: "List environments",
  options: backendFlag,
  examples: [["cleanroom environment list --json", "As JSON"]],
  handler: async (argv) => {
    const out = output(argv);
    const backend = await loadBackend(argv, out);
    try {
      const envs = await backend.listEnvironments();
      const { table } = await import("@ggen/reporter");
      out.data(envs, () =>
        envs.length === 0
          ? "no environments"
          : table(envs, [
              { header: "NAME", value: (e) => e.name },
              { header: "BACKEND", value: (e) => e.backend },
              { header: "ISOLATION", value: (e) => isolationText(e.isolation) },
              { header: "CREATED", value: (e) => e.createdAt },
            ]),
      );
    } finally {
      await backend.close();
    }
  },
});

const status = defineCommand<{ backend: BackendChoice; "docker-host"?: string; name?: string }>()({
  command: "status",
  describe: "Show an environment, its services and whether it is alive",
  options: {
    ...backendFlag,
    name: {
      type: "string",
      alias: "env",
      describe: `Which one (also --env; ${ENV_RULE} an error)`,
    },
  },
  examples: [["cleanroom environment status --name ci --json", "As JSON"]],
  handler: async (argv) => {
    const out = output(argv);
    const { backend, choice } = await currentEnvironment({ ...argv, env: argv.name }, out);
    try {
      if (!choice.name)
        throw new GgenError(
          "CLEANROOM_NO_ENV",
          choice.live.length
            ? `${choice.live.length} live environments (${choice.live.join(", ")}): name one with --name`
            : "no live environment in this project",
          { kind: "usage", hint: "cleanroom environment list shows them all" },
        );
      const s = await requireEnvironment(backend, choice.name);
      const safe = {
        ...s,
        services: s.services.map((v) => ({ ...v, url: v.redactedUrl, env: redactRecord(v.env) })),
      };
      out.data(safe, () =>
        [
          `${s.name} (${s.backend}) ${s.alive ? "alive" : `NOT alive${s.stale ? ` (stale: ${s.stale}; \`cleanroom container prune\` removes it)` : ""}`}; isolation: ${isolationText(s.isolation)}`,
          `  workdir ${s.workdir}, created ${s.createdAt}`,
          ...(s.services.length === 0
            ? ["  no services"]
            : s.services.map(
                (v) => `  ${v.name} (${v.kind}) ${v.redactedUrl}, ready in ${Math.round(v.readyMs)} ms`,
              )),
        ].join("\n"),
      );
    } finally {
      await backend.close();
    }
  },
});

export const environmentCommand = defineCommand()({
  command: "environment",
  aliases: ["env"],
  describe: "Create, delete, list and inspect environments",
  subcommands: [create, del, ls, status],
  requireSubcommand: "give an environment command: create, delete, list or status",
});
