// `cargo fmt --check`: rustfmt prints a diff per file it would change ("Diff in <file>:<line>:" in
// current rustfmt, "Diff in <file> at line <n>:" in older ones), colored when it likes, and exits 1.
// Read into a result per file. Pure, apart from `rustSources` listing the files checked.
import { readdir } from "node:fs/promises";
import { isAbsolute, join, relative } from "node:path";

export interface FmtHunk {
  line: number;
  removed: string[];
  added: string[];
}

export interface FmtFile {
  /** Relative to the crate when `root` was given. */
  file: string;
  formatted: boolean;
  hunks: FmtHunk[];
}

export interface FmtResult {
  /** Every file is formatted and rustfmt reported no error. */
  formatted: boolean;
  /** Every file given in `files`, and every file rustfmt reported, with its hunks. */
  files: FmtFile[];
  /** Files that need formatting. */
  unformatted: string[];
  /** rustfmt's errors (a file it could not parse, …). */
  errors: string[];
}

const ANSI = /\x1b\[[0-9;]*m|\x1b\([A-Z]/g;

/**
 * Reads `cargo fmt --check` output (stdout and stderr together) and its exit code. `files` (e.g. from
 * `rustSources`) lists the files checked, so the formatted ones appear too; `root` makes paths relative.
 */
export function parseFmtCheck(
  output: string,
  exitCode: number | null,
  opts: { root?: string; files?: readonly string[] } = {},
): FmtResult {
  const rel = (f: string) => (opts.root && isAbsolute(f) ? relative(opts.root, f) : f);
  const byFile = new Map<string, FmtFile>();
  for (const f of opts.files ?? []) byFile.set(rel(f), { file: rel(f), formatted: true, hunks: [] });
  const errors: string[] = [];
  let hunk: FmtHunk | undefined;
  for (const raw of output.split("\n")) {
    const line = raw.replace(ANSI, "");
    const head = /^Diff in (.+?)(?::(\d+):| at line (\d+):)\s*$/.exec(line);
    if (head) {
      const file = rel(head[1]!);
      const entry = byFile.get(file) ?? { file, formatted: false, hunks: [] };
      entry.formatted = false;
      byFile.set(file, entry);
      hunk = { line: Number(head[2] ?? head[3]), removed: [], added: [] };
      entry.hunks.push(hunk);
      continue;
    }
    if (/^error(\[\w+\])?:/.test(line)) {
      errors.push(line.replace(/^error(\[\w+\])?:\s*/, ""));
      hunk = undefined;
      continue;
    }
    if (!hunk) continue;
    if (line.startsWith("-")) hunk.removed.push(line.slice(1));
    else if (line.startsWith("+")) hunk.added.push(line.slice(1));
  }
  const files = [...byFile.values()].sort((a, b) => a.file.localeCompare(b.file));
  const unformatted = files.filter((f) => !f.formatted).map((f) => f.file);
  if (exitCode !== 0 && unformatted.length === 0 && errors.length === 0)
    errors.push(`cargo fmt --check exited ${exitCode ?? "on a signal"}`);
  return {
    formatted: exitCode === 0 && unformatted.length === 0 && errors.length === 0,
    files,
    unformatted,
    errors,
  };
}

/** The Rust sources of a crate that rustfmt checks: *.rs under src, tests, examples, benches, and build.rs. */
export async function rustSources(crateDir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(join(crateDir, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith(".rs")) out.push(p);
    }
  };
  for (const dir of ["src", "tests", "examples", "benches"]) await walk(dir);
  const top = await readdir(crateDir).catch(() => [] as string[]);
  if (top.includes("build.rs")) out.push("build.rs");
  return out.sort();
}
