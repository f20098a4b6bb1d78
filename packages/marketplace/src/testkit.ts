// Test helpers (not exported from the package): temp dirs, tiny packs and registries built for real.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { buildRegistry } from "./publish.js";

export async function tempDir(
  prefix = "ggen-market-",
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface TinyPack {
  id: string;
  version: string;
  deps?: Record<string, string>;
  description?: string;
  files?: Record<string, string>;
}

/** Writes a pack source dir with one template and returns its path. */
export async function writePack(root: string, p: TinyPack): Promise<string> {
  const dir = join(root, `${p.id}@${p.version}`);
  const deps = Object.entries(p.deps ?? {})
    .map(([d, r]) => `"${d}" = "${r}"`)
    .join("\n");
  const files: Record<string, string> = {
    "ggen.toml": `[pack]
id = "${p.id}"
name = "${p.id}"
version = "${p.version}"
description = "${p.description ?? `pack ${p.id}`}"
license = "MIT"
category = "test"
tags = ["test"]
keywords = ["tiny"]

[[templates]]
name = "hello"
path = "templates/hello.txt.tmpl"
description = "says hello"

[dependencies]
${deps}
`,
    "templates/hello.txt.tmpl": `---\nto: hello-${p.id}.txt\n---\nhello from ${p.id} ${p.version}\n`,
    ...p.files,
  };
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), text);
  }
  return dir;
}

/** Builds a registry dir from tiny packs; returns its path. */
export async function tinyRegistry(root: string, packs: TinyPack[]): Promise<string> {
  const src = join(root, "src");
  const out = join(root, "registry");
  const dirs: string[] = [];
  for (const p of packs) dirs.push(await writePack(src, p));
  await buildRegistry({ packDirs: dirs, outDir: out, name: "tiny" });
  return out;
}
