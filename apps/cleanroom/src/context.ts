// What every command handler of this program shares: its Output, where state lives, the backend
// (loaded lazily so --help stays fast), and small argument helpers.
import { join, resolve } from "node:path";
import type { BackendChoice } from "@ggen/cleanroom-backends";
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

/** `--backend auto|local|testcontainers`, for a command table's options. */
export const backendFlag: OptionTable<{ backend: BackendChoice }> = {
  backend: { choices: backendChoices, default: "auto", describe: backendHelp },
};

export async function loadBackend(choice: BackendChoice, out?: Output) {
  const { createBackend } = await import("@ggen/cleanroom-backends");
  const backend = await createBackend(choice, { stateDir: stateDir() });
  if (out && choice === "auto" && backend.chosenBecause) out.verbose(backend.chosenBecause);
  return backend;
}

export type LoadedBackend = Awaited<ReturnType<typeof loadBackend>>;

/**
 * The backend that holds environment `name`: the one asked for, or with `auto` whichever backend
 * knows it (an environment made with --backend local stays local when Docker appears later).
 */
export async function backendFor(choice: BackendChoice, name: string, out?: Output): Promise<LoadedBackend> {
  const first = await loadBackend(choice, out);
  if (choice !== "auto" || (await first.environmentStatus(name))) return first;
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

export async function requireEnvironment(backend: LoadedBackend, name: string) {
  const status = await backend.environmentStatus(name);
  if (!status) {
    const names = (await backend.listEnvironments()).map((e) => e.name);
    const { didYouMean } = await import("@ggen/reporter");
    throw new GgenError(
      "CLEANROOM_NO_ENV",
      `no environment '${name}' (${backend.name} backend)${didYouMean(name, names)}`,
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

/** Seconds from a flag, as milliseconds; a usage error for non-positive numbers. */
export function secondsToMs(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new GgenError("BAD_ARGUMENT", `${flag} ${String(value)}: expected a positive number of seconds`, {
      kind: "usage",
    });
  return Math.round(n * 1000);
}

/** Strings from a repeatable flag. */
export function list(value: unknown): string[] {
  return [value ?? []].flat().map(String).filter(Boolean);
}
