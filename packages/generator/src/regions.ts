// Protected regions: lines between `ggen:manual NAME` and `ggen:end` (or the original's `MANUAL: NAME` …
// `END MANUAL`), each marker alone on a line inside a comment of the file's language. What the user
// writes between them is theirs: regeneration puts it back byte for byte into the new render, and a
// region the template no longer has is reported, never dropped silently.
import { basename, extname } from "node:path";

/** Comment openers (and closers) by file extension; files of other kinds accept any of them. */
const LINE = ["//", "#", "--", ";", "%"];
const BLOCK: [string, string][] = [
  ["/*", "*/"],
  ["<!--", "-->"],
  ["{{!--", "--}}"],
  ["(*", "*)"],
];
const BY_EXTENSION: Record<string, { line: string[]; block: [string, string][] }> = {};
const define = (exts: string, line: string[], block: [string, string][] = []) => {
  for (const e of exts.split(" ")) BY_EXTENSION[e] = { line, block };
};
define(".ts .tsx .js .jsx .mjs .cjs .rs .go .java .kt .kts .scala .swift .c .h .cc .cpp .hpp .cs .dart .php", [
  "//",
], [["/*", "*/"]]);
define(".css .scss .less", [], [["/*", "*/"]]);
define(
  ".py .sh .bash .zsh .rb .pl .r .yaml .yml .toml .tf .hcl .cfg .conf .env .dockerfile .mk .nix .ps1 .ex .exs",
  ["#"],
);
define(".sql .lua .hs .elm .ada", ["--"], [["/*", "*/"]]);
define(".html .htm .xml .svg .md .markdown .vue .xhtml", [], [["<!--", "-->"]]);
define(".ini", [";", "#"]);
define(".tex .erl", ["%"]);
define(".hbs .tmpl", [], [["{{!--", "--}}"]]);
const NAMED: Record<string, string> = { Dockerfile: ".dockerfile", Makefile: ".mk", makefile: ".mk" };

function syntaxOf(path: string): { line: string[]; block: [string, string][] } {
  const ext = NAMED[basename(path)] ?? extname(path).toLowerCase();
  return BY_EXTENSION[ext] ?? { line: LINE, block: BLOCK };
}

/** The text of a comment line (without its opener/closer), or undefined when the line is not one. */
function commentText(
  line: string,
  syntax: { line: string[]; block: [string, string][] },
): string | undefined {
  const t = line.trim();
  for (const o of syntax.line) if (t.startsWith(o)) return t.slice(o.length).trim();
  for (const [o, c] of syntax.block)
    if (t.startsWith(o) && t.endsWith(c) && t.length >= o.length + c.length)
      return t.slice(o.length, t.length - c.length).trim();
  return undefined;
}

type Marker = { kind: "begin"; name: string | undefined } | { kind: "end" };

function markerOf(text: string): Marker | undefined {
  let m = /^ggen:manual(?:\s+(\S.*?))?\s*$/.exec(text);
  if (m) return { kind: "begin", name: m[1] };
  if (/^ggen:end\s*$/.test(text)) return { kind: "end" };
  m = /^MANUAL:(?:\s*(\S.*?))?\s*$/.exec(text);
  if (m) return { kind: "begin", name: m[1] };
  if (/^END MANUAL\s*$/.test(text)) return { kind: "end" };
  return undefined;
}

export interface Region {
  name: string;
  /** Index (in `lines`) of the begin marker and of the end marker. */
  begin: number;
  end: number;
  /** The lines between the markers, joined (line endings kept). */
  body: string;
}

export interface ParsedRegions {
  lines: string[];
  regions: Region[];
  /** Why the markers could not be read (nested, unterminated, duplicate name): no regions then. */
  problem?: string;
}

/** Lines with their endings, so joining them gives the text back exactly. */
export const splitLines = (text: string): string[] => (text === "" ? [] : text.split(/(?<=\n)/));

/** The protected regions of `text` (a file at `path`, whose extension tells the comment syntax). */
export function parseRegions(text: string, path: string): ParsedRegions {
  const lines = splitLines(text);
  if (!text.includes("ggen:manual") && !text.includes("MANUAL:")) return { lines, regions: [] };
  const syntax = syntaxOf(path);
  const regions: Region[] = [];
  const names = new Set<string>();
  let open: { name: string; begin: number } | undefined;
  let unnamed = 0;
  for (let i = 0; i < lines.length; i++) {
    const c = commentText(lines[i]!, syntax);
    const m = c === undefined ? undefined : markerOf(c);
    if (!m) continue;
    if (m.kind === "begin") {
      if (open) return { lines, regions: [], problem: `line ${i + 1}: region inside region '${open.name}'` };
      const name = m.name ?? `#${++unnamed}`;
      if (names.has(name)) return { lines, regions: [], problem: `line ${i + 1}: region '${name}' twice` };
      names.add(name);
      open = { name, begin: i };
    } else {
      if (!open) return { lines, regions: [], problem: `line ${i + 1}: end marker without a region` };
      regions.push({
        name: open.name,
        begin: open.begin,
        end: i,
        body: lines.slice(open.begin + 1, i).join(""),
      });
      open = undefined;
    }
  }
  if (open) return { lines, regions: [], problem: `region '${open.name}' has no end marker` };
  return { lines, regions };
}

/** `target` with the bodies of its regions replaced by those `bodies` names (the others left as they are). */
export function withBodies(target: ParsedRegions, bodies: ReadonlyMap<string, string>): string {
  if (target.regions.length === 0) return target.lines.join("");
  const out: string[] = [];
  let at = 0;
  for (const r of target.regions) {
    const body = bodies.get(r.name);
    if (body === undefined) continue;
    out.push(...target.lines.slice(at, r.begin + 1), body);
    at = r.end;
  }
  out.push(...target.lines.slice(at));
  return out.join("");
}

export const bodiesOf = (p: ParsedRegions): Map<string, string> =>
  new Map(p.regions.map((r) => [r.name, r.body]));
