// `cargo audit` where cargo-audit is not installed: ggen's cargo home puts this in its bin/ (a
// `cargo-audit` shim; cargo looks there for subcommands), so the seed's `cargo audit --ignore-source`
// runs as written and checks Cargo.lock against the bundled RustSec advisories. It says so on stderr
// first, every time: a reader of the output must know which audit ran.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { auditCargoLock, defaultAdvisoryDbDir, loadAdvisoryDb } from "./audit.js";

const ACCEPTED = new Set([
  "--ignore-source",
  "-n",
  "--no-fetch",
  "--stale",
  "-q",
  "--quiet",
  "--color=never",
]);

async function main(argv: string[]): Promise<number> {
  const args = argv[0] === "audit" ? argv.slice(1) : argv;
  let file = "Cargo.lock";
  let db = process.env.GGEN_ADVISORY_DB;
  let json = false;
  let denyWarnings = false;
  const ignore: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "-f" || a === "--file") file = value();
    else if (a === "-d" || a === "--db") db = value();
    else if (a === "--ignore") ignore.push(value());
    else if (a === "--json") json = true;
    else if (a === "-D" || a === "--deny") denyWarnings = value() === "warnings";
    else if (a === "-h" || a === "--help") {
      process.stdout.write(
        "cargo audit (ggen's built-in RustSec audit): [--file Cargo.lock] [--db DIR] [--ignore ID] [--json] [--deny warnings]\n",
      );
      return 0;
    } else if (!ACCEPTED.has(a) && !a.startsWith("--color"))
      throw new Error(
        `unsupported option '${a}' (cargo-audit is not installed; this is ggen's built-in audit)`,
      );
  }
  const dir = resolve(db ?? defaultAdvisoryDbDir());
  const database = await loadAdvisoryDb(dir);
  process.stderr.write(
    `ggen: cargo-audit is not installed; ggen's built-in audit checks ${file} against the RustSec advisories in ${dir} instead\n`,
  );
  const lockFile = resolve(file);
  if (!existsSync(lockFile) && existsSync(join(process.cwd(), "Cargo.toml"))) {
    // As cargo-audit does: a crate without a lockfile gets one first.
    const r = spawnSync("cargo", ["generate-lockfile"], { stdio: ["ignore", "ignore", "inherit"] });
    if (r.status !== 0) return 2;
  }
  const result = auditCargoLock(readFileSync(lockFile, "utf8"), database, { ignore });
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const out: string[] = [
      `    Loaded ${result.advisories} security advisories (from ${dir})`,
      `  Scanning ${file} for vulnerabilities (${result.packages} crate dependencies)`,
    ];
    for (const f of [...result.vulnerabilities, ...result.warnings]) {
      out.push(
        `Crate:     ${f.package}`,
        `Version:   ${f.version}`,
        ...(f.kind ? [`Warning:   ${f.kind}`] : []),
        `Title:     ${f.title}`,
        `Date:      ${f.date}`,
        `ID:        ${f.id}`,
        ...(f.url ? [`URL:       ${f.url}`] : []),
        `Solution:  ${f.solution}`,
        "",
      );
    }
    const v = result.vulnerabilities.length;
    const w = result.warnings.length;
    if (v > 0) out.push(`error: ${v} vulnerabilit${v === 1 ? "y" : "ies"} found!`);
    if (w > 0)
      out.push(`warning: ${w} ${denyWarnings ? "denied" : "allowed"} warning${w === 1 ? "" : "s"} found`);
    process.stdout.write(`${out.join("\n")}\n`);
  }
  return result.vulnerabilities.length > 0 || (denyWarnings && result.warnings.length > 0) ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
