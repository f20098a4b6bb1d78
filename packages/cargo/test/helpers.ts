// Shared by the tests that run the real toolchain: a scratch dir with its own GGEN_HOME, small crates
// written on the spot, and the rule for what the machine lacks — skipped with the reason locally,
// a failure under CI (where scripts/system-packages.txt must have been installed).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEBIAN_CRATE_DIR, findToolchain, type Toolchain } from "../src/index.js";

export const toolchain: Toolchain | undefined = findToolchain();

/** Why the real-toolchain tests cannot run here, or undefined. Under CI a missing piece is an error. */
export function missing(crates: string[] = []): string | undefined {
  const lacking = [
    ...(toolchain ? [] : ["cargo (rustup)"]),
    ...crates.filter((c) => {
      const r = spawnSync("sh", ["-c", `ls -d ${DEBIAN_CRATE_DIR}/${c}-[0-9]* >/dev/null 2>&1`]);
      return r.status !== 0;
    }),
  ];
  if (lacking.length === 0) return undefined;
  const reason = `not installed: ${lacking.join(", ")} (see scripts/system-packages.txt)`;
  if (process.env.CI) throw new Error(reason);
  console.warn(`skipping: ${reason}`);
  return reason;
}

export interface Scratch {
  dir: string;
  ggenHome: string;
  cleanup: () => void;
}

export function scratch(prefix: string): Scratch {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    ggenHome: join(dir, "ggen-home"),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Writes a crate: Cargo.toml from `deps` and `extra`, and the given files. */
export function writeCrate(
  dir: string,
  name: string,
  files: Record<string, string>,
  opts: { deps?: string; extra?: string } = {},
): string {
  const root = join(dir, name);
  const manifest = `[package]
name = "${name}"
version = "0.1.0"
edition = "2021"
description = "A test crate"
license = "MIT"
documentation = "https://docs.rs/${name}"
${opts.extra ?? ""}
[dependencies]
${opts.deps ?? ""}
`;
  for (const [rel, text] of Object.entries({ "Cargo.toml": manifest, ...files })) {
    mkdirSync(join(root, rel, ".."), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

/** Runs cargo in `cwd` with the toolchain's env plus `env`. */
export function cargo(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const t = toolchain!;
  const r = spawnSync(t.cargo, args, {
    cwd,
    env: { ...process.env, ...t.env, ...env },
    encoding: "utf8",
    timeout: 600_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Packages cargo compiled afresh in a `--message-format=json` run (fresh: false). */
export function compiledPackages(stdout: string): string[] {
  const names = new Set<string>();
  for (const line of stdout.split("\n")) {
    if (!line.startsWith('{"reason":"compiler-artifact"')) continue;
    const m = JSON.parse(line) as { fresh: boolean; package_id: string; target: { name: string } };
    if (!m.fresh)
      names.add(
        /#([^@]+)@/.exec(m.package_id)?.[1] ?? /\/([^/#]+)#/.exec(m.package_id)?.[1] ?? m.target.name,
      );
  }
  return [...names].sort();
}
