// Who owns a container, and what prune does with it — pure decisions, no Docker, so they are unit-tested
// without an engine. A throwaway environment's container and the non-persistent service containers it
// starts carry their owner (pid + start time) as labels: the labels outlive the owner, also a kill -9
// between `docker start` and the state write, when no state entry names the container yet.

import type { ProcessRef } from "@ggen/support";
import { ownerGone } from "../state/records.js";

export const LABEL = "io.ggen.cleanroom";
export const OWNER_PID = `${LABEL}.owner.pid`;
export const OWNER_START = `${LABEL}.owner.start`;
export const PERSISTENT = `${LABEL}.persistent`;

export function ownerLabels(ref: ProcessRef): Record<string, string> {
  return { [OWNER_PID]: String(ref.pid), [OWNER_START]: ref.start };
}

/** The owner a container's labels name, or undefined (none, or not a pid). */
export function ownerFromLabels(labels: Record<string, string> | undefined): ProcessRef | undefined {
  const pid = Number(labels?.[OWNER_PID]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { pid, start: labels?.[OWNER_START] ?? "" };
}

export type PruneVerdict = { remove: true; why: string } | { remove: false; why: string };

/**
 * What prune does with one container labelled for this state dir. `owned`: a state entry names it.
 * A dead owner removes it even when owned (its environment is being pruned); a live owner keeps an
 * unowned one (it is being created right now); a persistent service is never judged by an owner
 * (shared by design; it carries none, and one is ignored).
 */
export function pruneVerdict(
  labels: Record<string, string>,
  owned: boolean,
  options: { all?: boolean; alive?: (ref: ProcessRef) => boolean } = {},
): PruneVerdict {
  if (options.all) return { remove: true, why: "prune --all" };
  const persistent = labels[PERSISTENT] === "true";
  const owner = persistent ? undefined : ownerFromLabels(labels);
  const gone = ownerGone(owner, options.alive);
  if (gone) return { remove: true, why: gone };
  if (owned) return { remove: false, why: "a state entry owns it" };
  if (owner) return { remove: false, why: `its owner process ${owner.pid} is alive` };
  return { remove: true, why: "no state entry owns it" };
}
