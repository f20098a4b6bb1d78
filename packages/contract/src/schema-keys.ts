// The keys a user file may hold, read from its schema: the parsers of make.toml, .ggen/config.toml,
// scenarios and frontmatter refuse unknown keys with these lists, so the schema editors check against
// and the programs are one source (a key added to one is in the other).
import { GgenError } from "./errors.js";
import type { ContractKind } from "./types.js";
import { schemas } from "./validate.js";

type SchemaNode = { $ref?: string; properties?: Record<string, unknown> } & Record<string, unknown>;

/** The node at a JSON Pointer inside `root` ("" is the root; `~1` and `~0` as in RFC 6901). */
function at(root: SchemaNode, pointer: string): SchemaNode | undefined {
  let node: unknown = root;
  for (const raw of pointer.split("/").slice(1)) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    node = node && typeof node === "object" ? (node as Record<string, unknown>)[seg] : undefined;
  }
  return node as SchemaNode | undefined;
}

/**
 * The property names of the object schema at `pointer` in the schema of `kind`, in the schema's order
 * (local `$ref`s followed): `schemaKeys("make-toml/v1", "/$defs/phase")` → ["description", "command", …].
 */
export function schemaKeys(kind: ContractKind, pointer: string): string[] {
  const root = schemas[kind] as SchemaNode;
  let node = at(root, pointer);
  for (let hops = 0; node?.$ref?.startsWith("#") && hops < 16; hops++) node = at(root, node.$ref.slice(1));
  if (!node?.properties)
    throw new GgenError("CONTRACT_SCHEMA", `${kind} has no object schema at '${pointer}'`, {
      kind: "failure",
    });
  return Object.keys(node.properties);
}

/**
 * Where the schema of `kind` is published (its `$id`): what a file's `#:schema` (Taplo) or
 * `# yaml-language-server: $schema=` line names, so editors complete and check it.
 */
export function schemaUrl(kind: ContractKind): string {
  return (schemas[kind] as { $id: string }).$id;
}
