// Cargo's version requirements (`1`, `^0.4`, `~1.2`, `>= 0.6.14, < 1.0.0`, `=0.2.0`, `1.*`) over
// npm's semver matcher: the grammars agree but for two things — commas join comparators in Cargo
// (spaces in npm), and a bare version means a caret requirement in Cargo (an exact one in npm).
import semver from "semver";

/** A Cargo requirement as an npm semver range, or undefined when it is not one. */
export function cargoReqToRange(req: string): string | undefined {
  const parts = req
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) return undefined;
  const out: string[] = [];
  for (const part of parts) {
    const m = /^(>=|<=|>|<|=|\^|~)?\s*(\S+)$/.exec(part);
    if (!m) return undefined;
    const [, op, version] = m;
    if (version === "*") {
      out.push("*");
      continue;
    }
    // A bare version is Cargo's default requirement: caret.
    const range = `${op ?? (/[*xX]/.test(version!) ? "" : "^")}${version}`;
    if (semver.validRange(range) === null) return undefined;
    out.push(range);
  }
  return out.join(" ");
}

/** Whether `version` satisfies the Cargo requirement `req` (false for an unreadable one). */
export function satisfiesCargoReq(version: string, req: string): boolean {
  const range = cargoReqToRange(req);
  return range !== undefined && semver.valid(version) !== null && semver.satisfies(version, range);
}
