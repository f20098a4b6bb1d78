// `ggen apply PLAN`: carry out a generation-plan/v1 (made by `ggen template generate --plan`) exactly, or
// refuse when any file it covers changed since it was made.
import { defineCommand } from "@ggen/reporter";
import { output } from "../context.js";

interface ApplyOptions {
  plan: string;
  "allow-hooks": boolean;
}

export const applyCommand = defineCommand<ApplyOptions>()({
  command: "apply <plan>",
  describe: "Carry out a generation plan exactly (exit 1, naming the files, when any changed since the plan)",
  positionals: {
    plan: { type: "string", describe: "A generation-plan/v1 file (ggen template generate … --plan FILE)" },
  },
  options: {
    "allow-hooks": {
      type: "boolean",
      default: false,
      describe: "Run the plan's sh_before/sh_after hooks (listed in the plan; off by default)",
    },
  },
  examples: [
    ["ggen gen io.ggen.domain-service --graph shop.ttl --plan plan.json", "Plan: nothing is written"],
    ["ggen apply plan.json", "Then apply exactly that plan"],
  ],
  handler: async (argv) => {
    const out = output(argv);
    const { applyPlan } = await import("@ggen/generator");
    const r = await applyPlan(String(argv.plan), {
      cwd: process.cwd(),
      allowHooks: argv["allow-hooks"] === true,
      onWarn: (w) => out.warn(w),
      onInfo: (m) => out.info(m),
    });
    const conflicts = r.files.filter((f) => f.action === "conflict").map((f) => f.path);
    out.data(
      {
        plan: String(argv.plan),
        files: r.files.map((f) => ({ path: f.path, action: f.action, sha256: f.next })),
        summary: r.plan.summary,
        conflicts,
        hooks: r.hooks,
        manifest: r.manifestPath ?? null,
      },
      () => {
        const lines = r.files.map(
          (f) => `${f.action.padEnd(13)} ${f.path}${f.reason ? `  (${f.reason})` : ""}`,
        );
        const summary = Object.entries(r.plan.summary)
          .map(([k, n]) => `${n} ${k}`)
          .join(", ");
        lines.push(`applied ${String(argv.plan)}: ${r.files.length} file(s)${summary ? `: ${summary}` : ""}`);
        return lines.join("\n");
      },
    );
    if (conflicts.length) {
      process.stderr.write(
        `ggen: ${conflicts.length} file(s) with conflict markers: ${conflicts.join(", ")}\n`,
      );
      process.exitCode = 1;
    }
  },
});
