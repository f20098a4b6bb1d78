// What a generation reads is bounded and contained: templates, `from:` bodies, query files and vars files
// are regular files (never a FIFO or /dev/zero) below a size limit, and a template's own reads stay inside
// its root — its pack, or the project — also through symlinks. The render budgets live here too.
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { formatSize, parseSize, staysInside } from "@ggen/support";
import { at, fail, type SourceLocation } from "./errors.js";

export interface GeneratorLimits {
  /** The largest template, `from:` body, query file or vars file. */
  maxInputBytes: number;
  /** Handlebars expressions in one template (compiling them costs ~1 ms each). */
  maxExpressions: number;
  /** Block nesting in one template (Handlebars' parser is super-linear in it). */
  maxDepth: number;
  /** `{{#each}}` iterations while rendering one file. */
  maxIterations: number;
}

export const defaultGeneratorLimits: Readonly<GeneratorLimits> = {
  maxInputBytes: 16 * 1024 * 1024,
  maxExpressions: 10_000,
  maxDepth: 100,
  maxIterations: 1_000_000,
};

let current: GeneratorLimits | undefined;

/** The limits in force: the defaults, GGEN_MAX_INPUT_SIZE for the size, GGEN_RENDER_BUDGET for the loops. */
export function generatorLimits(): Readonly<GeneratorLimits> {
  if (!current) {
    current = { ...defaultGeneratorLimits };
    const size = process.env.GGEN_MAX_INPUT_SIZE;
    if (size) current.maxInputBytes = parseSize(size, { flag: "GGEN_MAX_INPUT_SIZE" });
    const budget = process.env.GGEN_RENDER_BUDGET;
    if (budget) {
      if (!/^[1-9]\d*$/.test(budget))
        fail(
          "BAD_BUDGET",
          `GGEN_RENDER_BUDGET ${JSON.stringify(budget)}: expected a number of iterations`,
          undefined,
          {
            kind: "usage",
          },
        );
      current.maxIterations = Number(budget);
    }
  }
  return current;
}

/**
 * A file's text: refused (usage error at `where`) when it is missing, a directory, not a regular file,
 * or larger than the input limit. Reads one byte past the limit, so a file that grows is caught too.
 */
export function readInput(abs: string, where: SourceLocation, what: string): string {
  const max = generatorLimits().maxInputBytes;
  const tooLarge = () =>
    fail("INPUT_TOO_LARGE", `${what} is larger than the ${formatSize(max)} limit`, where, {
      hint: "raise it with GGEN_MAX_INPUT_SIZE (e.g. 64M)",
    });
  let fd: number;
  let size: number;
  try {
    // Non-blocking, so a FIFO opens at once (and is refused below) instead of waiting for a writer;
    // what the fd is, not what the path was a moment before, decides. As bigints: Node 20's
    // realpathSync can read a plain stat's leftover result back (see reporter's StdioWriter), and what
    // this fd is must not change how modules resolve later.
    fd = openSync(abs, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(
      "INPUT_READ",
      code === "ENOENT" ? `${what} not found` : `cannot read ${what} (${code ?? "error"})`,
      where,
      { kind: "usage" },
    );
  }
  try {
    const st = fstatSync(fd, { bigint: true });
    if (st.isDirectory()) fail("INPUT_READ", `${what} is a directory`, where, { kind: "usage" });
    if (!st.isFile()) fail("INPUT_READ", `${what} is not a regular file`, where, { kind: "usage" });
    size = Number(st.size);
    if (size > max) tooLarge();
    const buf = Buffer.allocUnsafe(Math.min(size, max) + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, n);
      if (got === 0) break;
      n += got;
      if (n === buf.length) {
        if (n > max) tooLarge();
        break;
      }
    }
    return buf.toString("utf8", 0, n);
  } finally {
    closeSync(fd);
  }
}

/** Where a template may read: a directory, and what it is ("the pack", "the project"). */
export interface ReadRoot {
  dir: string;
  name: string;
}

/** Refuses a read of `abs` outside `root` (lexically or through a symlink): `what` names the file. */
export function containRead(root: ReadRoot, abs: string, what: string, file: string, line?: number): void {
  if (!staysInside(root.dir, abs)) {
    fail("TEMPLATE_READ", `${what} is outside ${root.name}`, at(file, line), {
      kind: "usage",
      hint: "a template reads only inside its pack, or the project",
    });
  }
}
