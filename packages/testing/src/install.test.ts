import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { installCommand } from "./install.js";

const root = mkdtempSync(join(tmpdir(), "install-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it("installs only a Node project with dependencies and no node_modules; npm ci with a lockfile", () => {
  expect(installCommand(root)).toBeUndefined();
  writeFileSync(join(root, "package.json"), JSON.stringify({ name: "x" }));
  expect(installCommand(root)).toBeUndefined();
  writeFileSync(join(root, "package.json"), JSON.stringify({ name: "x", devDependencies: { vitest: "*" } }));
  expect(installCommand(root)).toEqual([
    "npm",
    "install",
    "--offline",
    "--no-audit",
    "--no-fund",
    "--ignore-scripts",
    "--no-package-lock",
  ]);
  writeFileSync(join(root, "package-lock.json"), "{}");
  expect(installCommand(root)?.slice(0, 3)).toEqual(["npm", "ci", "--offline"]);
  mkdirSync(join(root, "node_modules"));
  expect(installCommand(root)).toBeUndefined();
});
