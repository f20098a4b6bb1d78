// A variant of the bundled domain-service pack (fixtures/templates), published in a registry of its own:
// the tests that need an ultra-fast run to fail in one place (a generated test, the deployed release's
// port) make it here, the same way each time.
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildRegistry } from "@ggen/marketplace";

const templatesDir = join(import.meta.dirname, "..", "..", "fixtures", "templates");

/** One text edit of a file of the pack; the edit must apply (a fixture that drifted fails here). */
export interface PackEdit {
  /** Relative to the pack's root, e.g. "templates/server.mjs.tmpl". */
  readonly file: string;
  readonly from: string;
  readonly to: string;
}

/** A generated test that fails: model.test.mjs expects no entity. */
export const FAILING_TEST: PackEdit = {
  file: "templates/model.test.mjs.tmpl",
  from: "assert.ok(entityList.length > 0);",
  to: "assert.ok(entityList.length < 0);",
};

/** A server that listens one port off: its own tests (which use createApp) pass, the deployed release
 * fails its health check. */
export const WRONG_PORT: PackEdit = {
  file: "templates/server.mjs.tmpl",
  from: "const port = Number(process.env.PORT ?? {{port}});",
  to: "const port = Number(process.env.PORT ?? {{port}}) + 1;",
};

function edit(root: string, { file, from, to }: PackEdit): void {
  const path = join(root, file);
  const text = readFileSync(path, "utf8");
  if (!text.includes(from)) throw new Error(`domain-service variant: '${from}' is not in ${file} any more`);
  writeFileSync(path, text.replace(from, to));
}

/**
 * The domain-service pack as `id` (and `name`, when given) with `edits` applied, copied under `dir` and
 * published into a registry there. Returns the registry dir (for `--registry`) and the pack's copy.
 */
export async function domainServiceVariant(
  dir: string,
  variant: { readonly id: string; readonly name?: string; readonly edits: readonly PackEdit[] },
): Promise<{ registry: string; pack: string }> {
  const pack = join(dir, `${variant.id}-pack`);
  cpSync(templatesDir, pack, { recursive: true });
  edit(pack, { file: "ggen.toml", from: 'id = "io.ggen.domain-service"', to: `id = "${variant.id}"` });
  if (variant.name)
    edit(pack, { file: "ggen.toml", from: 'name = "Domain service"', to: `name = "${variant.name}"` });
  for (const e of variant.edits) edit(pack, e);
  const registry = join(dir, `${variant.id}-registry`);
  await buildRegistry({ packDirs: [pack], outDir: registry, published: "2026-01-01T00:00:00Z" });
  return { registry, pack };
}
