// The shape of <stateDir>/state.json, checked on every read: the file is input like any other (edited,
// truncated, written by another version), and a wrong shape must give one line naming the field — never
// an internal error later (`Cannot create property 'e2' on number '5'`). Paths in it are checked where
// they are used (local/paths.ts: containedRecord), against the roots this state dir owns.
import { dirname, isAbsolute, join, normalize, sep } from "node:path";
import { GgenError, isInside } from "@ggen/support";
import type { StateFile } from "./store.js";

/** A check of one value: undefined when it fits, else what is wrong with it. */
type Shape = (value: unknown, path: string) => string | undefined;

const describe = (v: unknown): string =>
  v === null
    ? "null"
    : Array.isArray(v)
      ? "an array"
      : typeof v === "object"
        ? "an object"
        : JSON.stringify(v);

const str: Shape = (v, p) =>
  typeof v === "string" ? undefined : `${p}: expected a string, got ${describe(v)}`;
const bool: Shape = (v, p) =>
  typeof v === "boolean" ? undefined : `${p}: expected true or false, got ${describe(v)}`;
const num: Shape = (v, p) =>
  typeof v === "number" && Number.isFinite(v) && v >= 0
    ? undefined
    : `${p}: expected a number, got ${describe(v)}`;
const pid: Shape = (v, p) =>
  Number.isInteger(v) && (v as number) > 0 ? undefined : `${p}: expected a process id, got ${describe(v)}`;
const oneOf =
  (...values: string[]): Shape =>
  (v, p) =>
    values.includes(v as string) ? undefined : `${p}: expected ${values.join(" or ")}, got ${describe(v)}`;

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** An object with these fields (`?` after a name: optional); other fields are allowed (newer writers). */
function obj(fields: Record<string, Shape>): Shape {
  return (v, p) => {
    if (!isObject(v)) return `${p}: expected an object, got ${describe(v)}`;
    for (const [key, shape] of Object.entries(fields)) {
      const optional = key.endsWith("?");
      const name = optional ? key.slice(0, -1) : key;
      if (v[name] === undefined) {
        if (optional) continue;
        return `${p}.${name}: missing`;
      }
      const problem = shape(v[name], `${p}.${name}`);
      if (problem) return problem;
    }
    return undefined;
  };
}

function list(item: Shape): Shape {
  return (v, p) => {
    if (!Array.isArray(v)) return `${p}: expected an array, got ${describe(v)}`;
    for (const [i, x] of v.entries()) {
      const problem = item(x, `${p}[${i}]`);
      if (problem) return problem;
    }
    return undefined;
  };
}

function record(item: Shape): Shape {
  return (v, p) => {
    if (!isObject(v)) return `${p}: expected an object, got ${describe(v)}`;
    for (const [k, x] of Object.entries(v)) {
      const problem = item(x, `${p}.${k}`);
      if (problem) return problem;
    }
    return undefined;
  };
}

const processRef = obj({ pid, start: str });

const isolation = obj({ network: bool, pid: bool, filesystem: bool, limits: bool, "mechanism?": str });

const environmentSpec = obj({
  name: str,
  "isolated?": bool,
  "persistent?": bool,
  "memoryMb?": num,
  "cpus?": num,
  "mounts?": list(obj({ host: str, target: str, "writable?": bool })),
  "caches?": list(oneOf("npm", "cargo")),
  "env?": record(str),
  "pids?": num,
  "cpuSeconds?": num,
  "throwaway?": bool,
});

const environment = obj({
  name: str,
  backend: oneOf("local", "testcontainers"),
  workdir: str,
  createdAt: str,
  isolation,
  spec: environmentSpec,
  dir: str,
  "netns?": str,
  "containerId?": str,
  "cgroup?": str,
  "owner?": processRef,
  "sandbox?": oneOf("bwrap", "unshare", "userns", "none"),
  "guarantees?": obj({
    network: bool,
    pid: bool,
    filesystem: bool,
    readOnlyRoot: bool,
    readOnlyMounts: bool,
    mechanism: str,
  }),
  "commands?": list(obj({ pgid: pid, by: processRef })),
});

const localInstance = obj({
  kind: oneOf("postgres", "redis"),
  pid,
  dir: str,
  host: str,
  port: num,
  binary: str,
  logFile: str,
  "dataDir?": str,
  "socketDir?": str,
  "socket?": str,
});

const service = obj({
  environment: str,
  name: str,
  kind: str,
  backend: oneOf("local", "testcontainers"),
  spec: obj({ kind: str }),
  configHash: str,
  persistent: bool,
  startedAt: str,
  "local?": localInstance,
  "container?": obj({ id: str, image: str, port: num, host: str }),
  url: str,
  redactedUrl: str,
  env: record(str),
  readyMs: num,
});

const stateFile = obj({ environments: record(environment), services: record(service) });

/** What is wrong with a parsed state file, or undefined. */
function stateProblem(value: unknown): string | undefined {
  if (!isObject(value)) return `expected an object, got ${describe(value)}`;
  if (value.version !== undefined && value.version !== 1)
    return `version: expected 1, got ${describe(value.version)}`;
  const shaped = stateFile({ environments: {}, services: {}, ...value }, "state");
  if (shaped) return shaped.replace(/^state\./, "");
  const state = value as Partial<StateFile>;
  for (const [key, e] of Object.entries(state.environments ?? {}))
    if (key !== e.name) return `environments.${key}: its key is not its name (${describe(e.name)})`;
  for (const [key, s] of Object.entries(state.services ?? {}))
    if (key !== `${s.environment}/${s.name}`)
      return `services.${key}: its key is not <environment>/<name> (${describe(`${s.environment}/${s.name}`)})`;
  return undefined;
}

/** `value` as a StateFile, or a one-line CLEANROOM_STATE error naming the first field that is wrong. */
export function checkState(value: unknown, file: string, roots?: StateRoots): StateFile {
  const problem = stateProblem(value) ?? (roots ? uncontained(value as StateFile, roots) : undefined);
  if (problem) {
    throw new GgenError("CLEANROOM_STATE", `not a cleanroom state: ${problem}`, {
      location: { file },
      hint: "remove the file to start from a clean state; `cleanroom container prune` then removes what it named",
    });
  }
  const state = value as Partial<StateFile>;
  return { version: 1, environments: state.environments ?? {}, services: state.services ?? {} };
}

/** Where the paths of a state dir's local entries may lie (see local/paths.ts). */
export interface StateRoots {
  /** The state dir: persistent services live in its services/. */
  stateDir: string;
  /** Last two parts of the environments root (`ggen-cleanroom-<uid>`, `envs-<hash>`): the temp dir above may differ between calls. */
  envRootTail: [string, string];
}

/** An absolute, normalised path whose last parts are `tail` (the parts before them are the temp dir). */
function endsWith(p: string, tail: string[]): boolean {
  if (!isAbsolute(p) || normalize(p) !== p) return false;
  const parts = p.split(sep).filter(Boolean);
  return parts.length > tail.length && tail.every((t, i) => parts[parts.length - tail.length + i] === t);
}

const HEX_ID = /^[0-9a-f]{12,64}$/;

/**
 * What in `state` points outside what this state dir owns, or undefined: a local environment's dir must be
 * `<temp>/ggen-cleanroom-<uid>/envs-<hash>/<name>` (its workdir, cgroup and namespace named after it), a
 * local service's files must lie in its environment's or the state dir's services/ (its socket may be a
 * short `ggen-sock-*` temp dir), container ids must be ids. Checked before any of them is used, since
 * `delete` and `prune` remove directories and kill processes these entries name.
 */
export function uncontained(state: StateFile, roots: StateRoots): string | undefined {
  const [user, envs] = roots.envRootTail;
  for (const e of Object.values(state.environments)) {
    const at = `environments.${e.name}`;
    if (e.backend === "local") {
      if (!endsWith(e.dir, [user, envs, e.name]))
        return `${at}.dir ${JSON.stringify(e.dir)} is outside the environments root`;
      if (e.workdir !== join(e.dir, "work"))
        return `${at}.workdir ${JSON.stringify(e.workdir)} is not its dir's work/`;
      if (e.netns !== undefined && !/^\/run\/netns\/ggen-[0-9a-f]{8}-[0-9a-f]{6}$/.test(e.netns))
        return `${at}.netns ${JSON.stringify(e.netns)} is not a cleanroom network namespace`;
      if (
        e.cgroup !== undefined &&
        !new RegExp(`^ggen-cleanroom/[0-9a-f]{8}-${e.name.replace(/\./g, "\\.")}$`).test(e.cgroup)
      )
        return `${at}.cgroup ${JSON.stringify(e.cgroup)} is not this environment's cgroup`;
    } else if (e.containerId !== undefined && !HEX_ID.test(e.containerId)) {
      return `${at}.containerId ${JSON.stringify(e.containerId)} is not a container id`;
    }
  }
  for (const [key, s] of Object.entries(state.services)) {
    const at = `services.${key}`;
    if (s.container && !HEX_ID.test(s.container.id))
      return `${at}.container.id ${JSON.stringify(s.container.id)} is not a container id`;
    const l = s.local;
    if (!l) continue;
    const inServices =
      (isAbsolute(l.dir) &&
        normalize(l.dir) === l.dir &&
        isInside(join(roots.stateDir, "services"), l.dir) &&
        l.dir !== join(roots.stateDir, "services")) ||
      endsWith(dirname(l.dir), [user, envs, s.environment, "services"]);
    if (!inServices)
      return `${at}.local.dir ${JSON.stringify(l.dir)} is outside its environment's and the state dir's services/`;
    const files = l as unknown as Record<string, unknown>;
    for (const field of ["logFile", "dataDir", "socketDir", "socket"]) {
      const p = files[field];
      if (p === undefined) continue;
      const socketTemp =
        field.startsWith("socket") &&
        typeof p === "string" &&
        /(^|\/)ggen-sock-[A-Za-z0-9]{6}(\/[^/]+)?$/.test(p) &&
        normalize(p) === p;
      if (typeof p !== "string" || (!socketTemp && (!isInside(l.dir, p) || normalize(p) !== p)))
        return `${at}.local.${field} ${JSON.stringify(p)} is outside the service's dir`;
    }
  }
  return undefined;
}
