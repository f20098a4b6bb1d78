// Values taken on first read. A digest nobody reads — a run that writes no manifest, makes no plan and
// prints no JSON — is never taken, so such a run never loads node:crypto (with the stream modules it
// brings, more than a small generation's own work). The property is an own, enumerable accessor:
// JSON.stringify, a spread and a deep equal see the value as if it were plain data; a write replaces it.

/** Defines `o[key]` as `compute()`, run on the first read. */
export function defer<T extends object, K extends keyof T>(o: T, key: K, compute: () => T[K]): T {
  let value: T[K] | undefined;
  let known = false;
  Object.defineProperty(o, key, {
    enumerable: true,
    configurable: true,
    get: () => {
      if (!known) {
        value = compute();
        known = true;
      }
      return value as T[K];
    },
    set: (v: T[K]) => {
      value = v;
      known = true;
    },
  });
  return o;
}

/** Replaces `o[key]` by `f` of it: on the first read when it is deferred (it stays unread until then). */
export function deferMap<T extends object, K extends keyof T>(o: T, key: K, f: (v: T[K]) => T[K]): void {
  const get = Object.getOwnPropertyDescriptor(o, key)?.get;
  if (get) defer(o, key, () => f(get.call(o) as T[K]));
  else o[key] = f(o[key]);
}

/** `compute`, run once, on the first call. */
export function once<V>(compute: () => V): () => V {
  let value: V | undefined;
  let known = false;
  return () => {
    if (!known) {
      value = compute();
      known = true;
    }
    return value as V;
  };
}
