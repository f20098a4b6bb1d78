// What every command handler of this program shares: its Output, where state lives, the backend
// (loaded lazily so --help stays fast), and small argument helpers.
import { join, resolve } from "node:path";
import type { BackendChoice, ConfigOverrides } from "@ggen/cleanroom-backends";
import { GgenError } from "@ggen/contract";
import { type GlobalOptions, type OptionTable, type Output, outputFor } from "@ggen/reporter";

export type { Output };

export function output(argv: Partial<GlobalOptions>): Output {
  return outputFor(argv as Partial<GlobalOptions>);
}

export function notImplemented(what: string): never {
  throw new GgenError("NOT_IMPLEMENTED", `'${what}' is not implemented yet`);
}

export type { BackendChoice };
export const backendChoices = ["auto", "local", "testcontainers"] as const satisfies readonly BackendChoice[];

/** The project root commands work in (after --cwd). */
export function projectRoot(): string {
  return resolve(process.cwd());
}

/** `.cleanroom/` under the project root: environments, services, runs, metrics. */
export function stateDir(): string {
  return join(projectRoot(), ".cleanroom");
}

const backendHelp = "Where environments run: local (no Docker), testcontainers (Docker), or auto";

interface BackendFlags {
  backend: BackendChoice;
  "docker-host"?: string;
}

/** `--backend auto|local|testcontainers` and `--docker-host`, for a command table's options. */
export const backendFlag: OptionTable<BackendFlags> = {
  backend: { choices: backendChoices, default: "auto", describe: backendHelp },
  "docker-host": {
    type: "string",
    describe: "The Docker engine to use (unix:///path or tcp://host:port; default DOCKER_HOST)",
  },
};

/** The engine a command was pointed at: checked, and what the backend is created with. */
function engineOf(argv: Partial<BackendFlags>): string | undefined {
  const host = argv["docker-host"];
  if (host === undefined) return undefined;
  if (!/^(unix:\/\/\/.+|tcp:\/\/[^/\s]+)$/.test(host))
    throw new GgenError(
      "BAD_ARGUMENT",
      `--docker-host ${JSON.stringify(host)}: expected unix:///path/to/docker.sock or tcp://host:port`,
      { kind: "usage" },
    );
  if (argv.backend === "local")
    throw new GgenError(
      "BAD_ARGUMENT",
      "--docker-host needs the testcontainers backend, not --backend local",
      {
        kind: "usage",
      },
    );
  return host;
}

export async function loadBackend(argv: BackendChoice | Partial<BackendFlags>, out?: Output) {
  const flags: Partial<BackendFlags> = typeof argv === "string" ? { backend: argv } : argv;
  const choice = flags.backend ?? "auto";
  const engine = engineOf(flags);
  const { createBackend } = await import("@ggen/cleanroom-backends");
  // An engine named on the line is the one to use: never a silent fallback to the local backend. It is
  // the backend instance's engine option ([backend] docker_host) and this process's DOCKER_HOST, for
  // what reads that (the engine probe, testcontainers' client).
  if (engine) process.env.DOCKER_HOST = engine;
  const config = engine ? ({ backend: { dockerHost: engine } } as unknown as ConfigOverrides) : undefined;
  const backend = await createBackend(engine && choice === "auto" ? "testcontainers" : choice, {
    stateDir: stateDir(),
    ...(config ? { config } : {}),
  });
  if (out && choice === "auto" && backend.chosenBecause) out.verbose(backend.chosenBecause);
  return backend;
}

export type LoadedBackend = Awaited<ReturnType<typeof loadBackend>>;

/**
 * The backend that holds environment `name`: the one asked for, or with `auto` whichever backend
 * knows it (an environment made with --backend local stays local when Docker appears later).
 */
export async function backendFor(
  argv: BackendChoice | Partial<BackendFlags>,
  name: string,
  out?: Output,
): Promise<LoadedBackend> {
  const flags: Partial<BackendFlags> = typeof argv === "string" ? { backend: argv } : argv;
  const first = await loadBackend(flags, out);
  if ((flags.backend ?? "auto") !== "auto" || flags["docker-host"] || (await first.environmentStatus(name)))
    return first;
  const other = first.name === "local" ? "testcontainers" : "local";
  try {
    const second = await loadBackend(other);
    if (await second.environmentStatus(name)) {
      await first.close();
      return second;
    }
    await second.close();
  } catch {
    // the other backend is not available here
  }
  return first;
}

export async function requireEnvironment(backend: LoadedBackend, name: string, from?: string) {
  const status = await backend.environmentStatus(name);
  if (!status) {
    const names = (await backend.listEnvironments()).map((e) => e.name);
    const { didYouMean } = await import("@ggen/reporter");
    throw new GgenError(
      "CLEANROOM_NO_ENV",
      `no environment '${name}'${from ? ` (named by ${from})` : ""} (${backend.name} backend)${didYouMean(name, names)}`,
      {
        kind: "usage",
        hint: names.length
          ? `environments: ${names.join(", ")}`
          : "create one with 'cleanroom environment create --name <n>'",
      },
    );
  }
  return status;
}

/** A duration flag (50s, 2m, 1500ms; a bare number is seconds) as milliseconds. */
export async function durationFlag(value: unknown, flag: string): Promise<number | undefined> {
  if (value === undefined) return undefined;
  const { parseDuration } = await import("@ggen/support");
  return parseDuration(String(value), { flag });
}

/** A positive number from a flag (an integer when asked); the error echoes what was typed. */
export function positiveFlag(
  value: unknown,
  flag: string,
  options: { integer?: boolean; max?: number } = {},
) {
  if (value === undefined) return undefined;
  const text = String(value).trim();
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  const ok =
    n > 0 && (!options.integer || Number.isInteger(n)) && (options.max === undefined || n <= options.max);
  if (!ok)
    throw new GgenError(
      "BAD_ARGUMENT",
      `${flag} ${JSON.stringify(text)}: expected a positive ${options.integer ? "integer" : "number"}${options.max !== undefined ? ` up to ${options.max}` : ""}`,
      { kind: "usage" },
    );
  return n;
}

/** Strings from a repeatable flag. */
export function list(value: unknown): string[] {
  return [value ?? []].flat().map(String).filter(Boolean);
}

/** `--env NAME` (also `--env-name`): the environment a command works in — one meaning in every command. */
export interface EnvFlag {
  env?: string | undefined;
}

export const envFlag = (describe: string): OptionTable<EnvFlag> => ({
  env: { type: "string", alias: "env-name", describe },
});

/** The environment rule, said once for every --help: --env, CLEANROOM_ENV, the only live one, else … */
export const ENV_RULE = "default: CLEANROOM_ENV, else the project's only live environment, else";

/** One name, even when the flag was given twice; a K=V value is the old meaning of --env. */
export function envName(argv: EnvFlag, newFlagForVars?: string): string | undefined {
  const v = argv.env as unknown;
  if (v === undefined) return undefined;
  if (Array.isArray(v))
    throw new GgenError("BAD_ARGUMENT", `--env given ${v.length} times: name one environment`, {
      kind: "usage",
      ...(newFlagForVars ? { hint: `a service's variables go with ${newFlagForVars} KEY=VALUE` } : {}),
    });
  const name = String(v);
  if (name.includes("="))
    throw new GgenError(
      "BAD_ARGUMENT",
      `--env ${JSON.stringify(name)}: --env names an environment${newFlagForVars ? `; give a service's variables with ${newFlagForVars} KEY=VALUE` : ""}`,
      { kind: "usage" },
    );
  if (name === "") throw new GgenError("BAD_ARGUMENT", "--env needs an environment name", { kind: "usage" });
  return name;
}

export interface CurrentEnvironment {
  backend: LoadedBackend;
  choice: import("@ggen/testing").EnvironmentChoice;
}

/**
 * The environment a command works in (the rule of chooseEnvironment: --env, CLEANROOM_ENV, the only live
 * one, else a throwaway one), with the backend that holds it; says which when that is not obvious.
 */
export async function currentEnvironment(
  argv: Partial<BackendFlags> & EnvFlag,
  out: Output,
  options: { say?: boolean } = {},
): Promise<CurrentEnvironment> {
  const { chooseEnvironment } = await import("@ggen/testing");
  const flag = envName(argv);
  const envVar = process.env.CLEANROOM_ENV;
  const say = (c: import("@ggen/testing").EnvironmentChoice) => {
    if (c.note && options.say !== false) out.info(`using ${c.note}`);
  };
  if (flag || envVar?.trim()) {
    const choice = chooseEnvironment({ flag, envVar, live: [] });
    const backend = await backendFor(argv, choice.name!, out);
    await requireEnvironment(
      backend,
      choice.name!,
      choice.source === "CLEANROOM_ENV" ? "CLEANROOM_ENV" : undefined,
    );
    say(choice);
    return { backend, choice };
  }
  const backends = await projectBackends(argv, out);
  const live = await liveEnvironments(backends);
  const choice = chooseEnvironment({ live: live.map((l) => l.name) });
  const backend = choice.name ? live.find((l) => l.name === choice.name)!.backend : backends[0]!;
  for (const b of backends) if (b !== backend) await b.close();
  say(choice);
  return { backend, choice };
}

/** The backend asked for, then (with auto) the other one when it answers: where a project's environments are. */
export async function projectBackends(argv: Partial<BackendFlags>, out?: Output): Promise<LoadedBackend[]> {
  const backends = [await loadBackend(argv, out)];
  if ((argv.backend ?? "auto") === "auto" && !argv["docker-host"]) {
    try {
      backends.push(await loadBackend(backends[0]!.name === "local" ? "testcontainers" : "local"));
    } catch {
      // the other backend is not available here
    }
  }
  return backends;
}

/** The project's environments on these backends (not other runs' throwaway ones); live ones unless `all`. */
export async function liveEnvironments(
  backends: readonly LoadedBackend[],
  options: { all?: boolean } = {},
): Promise<{ name: string; backend: LoadedBackend }[]> {
  const found: { name: string; backend: LoadedBackend }[] = [];
  for (const backend of backends) {
    for (const e of await backend.listEnvironments()) {
      if (e.spec.throwaway) continue;
      if (!options.all && !(await backend.environmentStatus(e.name))?.alive) continue;
      found.push({ name: e.name, backend });
    }
  }
  return found;
}

/** The engine's settings from config.toml (parsed and checked in @ggen/cleanroom-backends): where runs and
 * metrics go, and the test run's defaults. */
export async function engineSettings() {
  const { engineSettings: settingsOf } = await import("@ggen/cleanroom-backends");
  const { storeAt } = await import("@ggen/testing");
  const { testing, metrics, runsDir, metricsFile } = settingsOf(stateDir());
  return { store: storeAt(stateDir(), { runsDir, metricsFile }), testing, metrics };
}
