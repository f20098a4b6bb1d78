// The write step: sh_before hooks, every decided file written atomically, modes set, sh_after hooks.
// Only reached in "write" mode, after the whole plan was checked.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { chmod, mkdir } from "node:fs/promises";
import { relative } from "node:path";
import { writeFileAtomicSync } from "@ggen/support";
import { at, fail } from "./errors.js";
import type { Decisions } from "./plan.js";
import type { Run } from "./run.js";
import type { HookResult } from "./types.js";

/** Runs the hooks of `when` (those allowed: --allow-hooks, and a pack the project trusts). */
function runHooks(run: Run, when: "before" | "after", results: HookResult[]): void {
  for (const h of run.hooks.filter((x) => x.when === when)) {
    for (const command of h.commands) {
      const res: HookResult = { template: h.unit.display, when, command, ran: false };
      if (!run.opts.allowHooks) res.reason = "hooks need --allow-hooks";
      else if (h.unit.pack && !h.unit.pack.trusted)
        res.reason = `pack '${h.unit.pack.id}' is not trusted by this project`;
      if (res.reason) {
        run.warn(`${h.unit.display}: sh_${when} not run: ${res.reason}`);
      } else {
        try {
          const out = execFileSync("sh", ["-c", command], {
            cwd: run.outRoot,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
            env: { ...process.env, ...h.env, GGEN_OUTPUT_DIR: run.outRoot, GGEN_TEMPLATE: h.unit.file },
          });
          if (out.trim()) run.opts.onInfo?.(out.trimEnd());
          res.ran = true;
        } catch (e) {
          const err = e as { status?: number; stderr?: string };
          fail(
            "HOOK_FAILED",
            `sh_${when} '${command}' exited ${err.status ?? "?"}: ${
              String(err.stderr ?? "")
                .trim()
                .split("\n")[0] ?? ""
            }`,
            at(h.unit.display),
            {},
          );
        }
      }
      results.push(res);
    }
  }
}

/** Hooks and files; returns what each hook did. */
export async function writeOutputs(run: Run, decided: Decisions): Promise<HookResult[]> {
  const hooks: HookResult[] = [];
  await mkdir(run.outRoot, { recursive: true });
  runHooks(run, "before", hooks);
  const w0 = performance.now();
  // Derived files, a thousand in a run: atomic renames without fsync (a crash can lose the new content,
  // never tear a file), which keeps generation several times faster than fsyncing each.
  for (const w of decided.writes) {
    // `backup: true`: the old bytes, exactly, as <file>.bak (atomically) before the file changes.
    if (w.backup) {
      writeFileAtomicSync(`${w.abs}.bak`, readFileSync(w.abs), { fsync: false });
      run.opts.onInfo?.(`kept ${relative(run.outRoot, w.abs)}.bak`);
    }
    writeFileAtomicSync(w.abs, w.content, {
      fsync: false,
      ...(w.mode !== undefined ? { mode: w.mode } : {}),
    });
  }
  for (const c of decided.chmods) await chmod(c.abs, c.mode);
  run.timings.writeMs += performance.now() - w0;
  runHooks(run, "after", hooks);
  return hooks;
}
