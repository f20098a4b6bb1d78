// Timers longer than Node's limit: setTimeout clamps a delay over 2^31-1 ms (about 24.8 days) to 1 ms
// and fires at once. A long timeout is chained in steps under that limit.

export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimer {
  clear(): void;
  /** Lets the process exit while only this timer is pending. */
  unref(): LongTimer;
}

/** Like setTimeout, for any finite delay (an infinite one never fires). */
export function longTimeout(fn: () => void, ms: number): LongTimer {
  let handle: NodeJS.Timeout | undefined;
  let unref = false;
  let cleared = false;
  const due = Date.now() + ms;
  const arm = () => {
    if (cleared) return;
    const left = due - Date.now();
    if (left <= MAX_TIMER_MS) handle = setTimeout(fn, Math.max(0, left));
    else handle = setTimeout(arm, MAX_TIMER_MS);
    if (unref) handle.unref();
  };
  if (Number.isFinite(ms)) arm();
  const timer: LongTimer = {
    clear() {
      cleared = true;
      if (handle) clearTimeout(handle);
    },
    unref() {
      unref = true;
      handle?.unref();
      return timer;
    },
  };
  return timer;
}
