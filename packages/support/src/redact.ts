// Secrets never reach logs, manifests or reports: a var or environment name that looks like one has its
// value shown as ***, and so has a URL's password.

export const REDACTED = "***";

/** Names whose values are secrets: anything mentioning a password, secret, token or key. */
export const SECRET_NAME = /password|passwd|secret|token|key|credential/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** A copy of `record` with the values of secret-looking names (and URL passwords) replaced by ***. */
export function redactRecord<T>(record: Readonly<Record<string, T>>): Record<string, T | string> {
  const out: Record<string, T | string> = {};
  for (const [k, v] of Object.entries(record)) {
    out[k] = isSecretName(k) ? REDACTED : typeof v === "string" ? redactUrl(v) : v;
  }
  return out;
}

/** `postgres://u:pw@host/db` → `postgres://u:***@host/db` (every URL in the text). */
export function redactUrl(text: string): string {
  return text.replace(/(\/\/[^:/@\s]*):([^@\s/]*)@/g, `$1:${REDACTED}@`);
}

/** Replaces each known secret value (longer than 3 characters, so "a" does not blank a log) with ***. */
export function redactText(text: string, secrets: Iterable<string>): string {
  let out = redactUrl(text);
  const values = [...secrets].filter((s) => s.length > 3).sort((a, b) => b.length - a.length);
  for (const s of values) out = out.split(s).join(REDACTED);
  return out;
}
