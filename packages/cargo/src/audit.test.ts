// Against the shipped database (fixtures/advisories/rustsec): real RustSec advisories, RustSec's format.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type AdvisoryDb,
  auditCargoLock,
  defaultAdvisoryDbDir,
  loadAdvisoryDb,
  parseAdvisory,
} from "./audit.js";

const CRATES_IO = "registry+https://github.com/rust-lang/crates.io-index";
const lock = (...pkgs: [string, string, string?][]) =>
  `version = 4\n\n${pkgs
    .map(([name, version, source]) => {
      const src =
        source === undefined ? `source = "${CRATES_IO}"\n` : source === "" ? "" : `source = "${source}"\n`;
      return `[[package]]\nname = "${name}"\nversion = "${version}"\n${src}`;
    })
    .join("\n")}`;

let db: AdvisoryDb;
beforeAll(async () => {
  db = await loadAdvisoryDb(defaultAdvisoryDbDir());
});

describe("the shipped advisory database", () => {
  it("loads every advisory with its id, package, date, versions and title", () => {
    expect(db.advisories.map((a) => a.id)).toContain("RUSTSEC-2021-0003");
    const smallvec = db.advisories.find((a) => a.id === "RUSTSEC-2021-0003")!;
    expect(smallvec).toMatchObject({
      package: "smallvec",
      date: "2021-01-08",
      title: "Buffer overflow in SmallVec::insert_many",
      patched: [">= 0.6.14, < 1.0.0", ">= 1.6.1"],
      unaffected: ["< 0.6.3"],
      aliases: ["CVE-2021-25900"],
      withdrawn: false,
    });
    expect(db.advisories.find((a) => a.id === "RUSTSEC-2020-0071")?.os).toContain("linux");
  });
});

describe("auditCargoLock", () => {
  it("passes a lockfile with only patched or unaffected versions", () => {
    const r = auditCargoLock(
      lock(["my_service", "0.1.0", ""], ["smallvec", "1.9.0"], ["time", "0.2.3"], ["regex", "1.7.1"]),
      db,
    );
    expect(r).toMatchObject({ audit_passed: true, vulnerabilities: [], warnings: [], packages: 3 });
  });

  it("reports each vulnerable package with the advisory and the fix", () => {
    const r = auditCargoLock(
      lock(["smallvec", "1.6.0"], ["time", "0.1.43"], ["remove_dir_all", "0.7.0"]),
      db,
    );
    expect(r.audit_passed).toBe(false);
    expect(r.vulnerabilities.map((v) => [v.package, v.version, v.id])).toEqual([
      ["remove_dir_all", "0.7.0", "RUSTSEC-2023-0018"],
      ["smallvec", "1.6.0", "RUSTSEC-2021-0003"],
      ["time", "0.1.43", "RUSTSEC-2020-0071"],
    ]);
    expect(r.vulnerabilities[1]).toMatchObject({
      title: "Buffer overflow in SmallVec::insert_many",
      solution: "upgrade to >= 0.6.14, < 1.0.0 or >= 1.6.1",
      aliases: ["CVE-2021-25900"],
    });
  });

  it("takes the boundaries of patched and unaffected ranges exactly", () => {
    const ids = (pkgs: [string, string][]) =>
      auditCargoLock(lock(...pkgs), db).vulnerabilities.map((v) => v.version);
    expect(
      ids([
        ["smallvec", "0.6.13"],
        ["smallvec", "0.6.14"],
        ["smallvec", "0.6.2"],
        ["smallvec", "1.6.1"],
      ]),
    ).toEqual(["0.6.13"]);
    expect(
      ids([
        ["tokio", "1.8.3"],
        ["tokio", "1.8.4"],
        ["tokio", "1.9.0"],
        ["tokio", "1.13.1"],
      ]),
    ).toEqual(["1.8.3", "1.9.0"]);
  });

  it("makes informational advisories warnings, skips withdrawn ones, other sources and ignored ids", () => {
    const r = auditCargoLock(
      lock(
        ["atty", "0.2.14"],
        ["anyhow", "1.0.69"],
        ["chrono", "0.4.19"],
        ["regex", "1.5.4", "git+https://example.com/regex"],
      ),
      db,
    );
    expect(r.audit_passed).toBe(true);
    expect(r.vulnerabilities).toEqual([]);
    expect(r.warnings.map((w) => [w.package, w.id, w.kind])).toEqual([
      ["anyhow", "RUSTSEC-2026-0190", "unsound"],
      ["atty", "RUSTSEC-2021-0145", "unsound"],
      ["atty", "RUSTSEC-2024-0375", "unmaintained"],
    ]);
    expect(r.warnings[1]?.solution).toBe("no patched version");
    const ignored = auditCargoLock(lock(["regex", "1.5.4"]), db, { ignore: ["RUSTSEC-2022-0013"] });
    expect(ignored.audit_passed).toBe(true);
    expect(auditCargoLock(lock(["regex", "1.5.4"]), db).audit_passed).toBe(false);
  });
});

describe("parseAdvisory and loadAdvisoryDb", () => {
  it("reads the older plain-TOML form with its title in [advisory]", () => {
    const a = parseAdvisory(
      '[advisory]\nid = "RUSTSEC-2018-0010"\npackage = "openssl"\ndate = 2018-06-01\ntitle = "Use after free in CMS Signing"\n\n[versions]\npatched = [">= 0.10.9"]\nunaffected = ["< 0.10.8"]\n',
      "crates/openssl/RUSTSEC-2018-0010.toml",
    );
    expect(a).toMatchObject({
      id: "RUSTSEC-2018-0010",
      date: "2018-06-01",
      title: "Use after free in CMS Signing",
    });
  });

  it("points at the file and line of a broken advisory", () => {
    const file = "crates/x/RUSTSEC-2099-0001.md";
    expect(() => parseAdvisory("# no front matter\n", file)).toThrow(/expected a ```toml front matter/);
    expect(() =>
      parseAdvisory(
        '```toml\n[advisory]\nid = "RUSTSEC-2099-0001"\npackage = "x"\ndate = "2099-01-01"\n[versions]\npatched = [">= banana"]\n```\n',
        file,
      ),
    ).toThrow(/version requirement '>= banana' is not valid/);
    try {
      parseAdvisory('```toml\n[advisory]\nid = "RUSTSEC-2099-0001"\npackage = \n```\n', file);
      expect.unreachable();
    } catch (e) {
      expect((e as { location?: { line: number } }).location?.line).toBe(4);
    }
  });

  it("refuses a missing database and an advisory filed under another crate", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ggen-advisories-"));
    try {
      await expect(loadAdvisoryDb(dir)).rejects.toThrow(/no advisory database/);
      await mkdir(join(dir, "crates", "x"), { recursive: true });
      await writeFile(
        join(dir, "crates", "x", "RUSTSEC-2099-0001.md"),
        '```toml\n[advisory]\nid = "RUSTSEC-2099-0001"\npackage = "y"\ndate = "2099-01-01"\n[versions]\npatched = []\n```\n# T\n',
      );
      await expect(loadAdvisoryDb(dir)).rejects.toThrow(/package 'y' is filed under crates\/x/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
