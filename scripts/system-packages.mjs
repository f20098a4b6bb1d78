#!/usr/bin/env node
// The Debian packages of scripts/system-packages.txt: which are missing, the exact command that installs
// them, and the install itself (root with apt only). Used by quickstart.mjs, check.mjs and the examples.
//   node scripts/system-packages.mjs check                 one line per missing package, then the command
//   node scripts/system-packages.mjs need LABEL PKG...     one line naming what is missing (the examples)
//   node scripts/system-packages.mjs install               install what is missing (as root)
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, openSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const listFile = join(here, "system-packages.txt");

/** @typedef {{ name: string, present: string, neededBy: "main" | "tests", purpose: string }} SystemPackage */

/** @returns {SystemPackage[]} */
export function systemPackages() {
  const out = [];
  for (const [i, raw] of readFileSync(listFile, "utf8").split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [name, present, neededBy, ...purpose] = line.split(/\s+/);
    if (!/^(cmd:|file:|deb$)/.test(present ?? "") || (neededBy !== "main" && neededBy !== "tests")) {
      throw new Error(`${listFile}:${i + 1}: expected 'package cmd:…|file:…|deb main|tests what for'`);
    }
    out.push({ name, present, neededBy, purpose: purpose.join(" ") });
  }
  return out;
}

function onPath(command, path) {
  for (const dir of (path ?? "").split(":")) {
    if (!dir) continue;
    const file = join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** @param {SystemPackage} pkg */
export function isPresent(pkg, env = process.env) {
  if (pkg.present.startsWith("cmd:"))
    return pkg.present
      .slice(4)
      .split(",")
      .every((c) => onPath(c, env.PATH));
  if (pkg.present.startsWith("file:")) return existsSync(pkg.present.slice(5));
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax, not JavaScript's
  const r = spawnSync("dpkg-query", ["-W", "-f=${Status}", pkg.name], { encoding: "utf8", env });
  return r.status === 0 && r.stdout.includes("install ok installed");
}

/** The missing packages, optionally only among `names`. */
export function missingPackages(names, env = process.env) {
  const all = systemPackages();
  if (names) {
    const unknown = names.filter((n) => !all.some((p) => p.name === n));
    if (unknown.length > 0) throw new Error(`not in ${listFile}: ${unknown.join(", ")}`);
  }
  return all.filter((p) => (!names || names.includes(p.name)) && !isPresent(p, env));
}

const isRoot = () => process.getuid?.() === 0;
const hasApt = (env = process.env) => onPath("apt-get", env.PATH);

/** The exact command that installs `pkgs` here (Debian's names; `sudo` when not root). */
export function installCommand(pkgs) {
  const names = pkgs.map((p) => p.name).join(" ");
  return `${isRoot() ? "" : "sudo "}apt-get install -y --no-install-recommends ${names}`;
}

/** One line per missing package, then how to install them, each prefixed with `label: `. */
export function missingLines(label, pkgs, env = process.env) {
  if (pkgs.length === 0) return [];
  const lines = pkgs.map((p) => `${label}: missing ${p.name} — ${p.purpose}`);
  lines.push(
    hasApt(env)
      ? `${label}: install with: ${installCommand(pkgs)}`
      : `${label}: no apt-get here: install the equivalents of these Debian packages with your package manager`,
  );
  return lines;
}

/**
 * Installs `pkgs` with apt (root only): `apt-get update` once, then one `apt-get install`. apt's own output
 * goes to `log`. Returns undefined on success, else one line saying why not.
 */
export function installPackages(pkgs, log) {
  if (pkgs.length === 0) return undefined;
  if (!isRoot()) return "not root, so nothing was installed";
  if (!hasApt()) return "no apt-get here (not Debian or Ubuntu), so nothing was installed";
  mkdirSync(dirname(log), { recursive: true });
  const fd = openSync(log, "a");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  // Several people may share a machine: wait for apt's lock rather than fail on it.
  const lock = ["-o", "DPkg::Lock::Timeout=300"];
  const apt = (args) => spawnSync("apt-get", [...lock, ...args], { stdio: ["ignore", fd, fd], env }).status;
  const update = apt(["update", "-q"]);
  if (update !== 0) return `apt-get update failed (exit ${update}); its output is in ${log}`;
  const install = apt(["install", "-y", "-q", "--no-install-recommends", ...pkgs.map((p) => p.name)]);
  if (install !== 0) return `apt-get install failed (exit ${install}); its output is in ${log}`;
  return undefined;
}

function cli(argv) {
  const [command, ...rest] = argv;
  if (command === "check") {
    const missing = missingPackages();
    for (const line of missingLines("system packages", missing)) console.error(line);
    return missing.length > 0 ? 1 : 0;
  }
  if (command === "need" && rest.length >= 2) {
    const [label, ...names] = rest;
    const missing = missingPackages(names);
    if (missing.length === 0) return 0;
    const list = missing.map((p) => p.name).join(", ");
    const them = missing.length === 1 ? "it" : "them";
    console.error(
      `${label}: missing ${list}: npm run quickstart installs ${them}, or: ${installCommand(missing)}`,
    );
    return 1;
  }
  if (command === "install") {
    const missing = missingPackages();
    if (missing.length === 0) return 0;
    console.log(`installing from Debian: ${missing.map((p) => p.name).join(" ")}`);
    const why = installPackages(missing, join(here, "..", "target", "apt.log"));
    if (why) {
      for (const line of missingLines("system packages", missing)) console.error(line);
      console.error(`system packages: ${why}`);
      return 1;
    }
    return 0;
  }
  console.error("usage: node scripts/system-packages.mjs check | need LABEL PACKAGE... | install");
  return 2;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    process.exit(cli(process.argv.slice(2)));
  } catch (error) {
    console.error(`system packages: ${error.message}`);
    process.exit(2);
  }
}
