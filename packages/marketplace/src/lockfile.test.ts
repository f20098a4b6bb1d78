import { describe, expect, it } from "vitest";
import { emptyLock, parseLock, serializeLock } from "./lockfile.js";

const entry = {
  version: "1.0.0",
  sha256: "a".repeat(64),
  integrity: "b".repeat(64),
  source: "reg",
  archive: "file:///x.tar.gz",
  requested: "^1.0.0",
  dependencies: { "z.dep": "1.0.0", "a.dep": "2.0.0" },
};

describe("lockfile", () => {
  it("serializes sorted and parses back", () => {
    const lock = emptyLock();
    lock.packs["io.b"] = entry;
    lock.packs["io.a"] = { ...entry, requested: null };
    const text = serializeLock(lock);
    expect(text.indexOf('"io.a"')).toBeLessThan(text.indexOf('"io.b"'));
    expect(text.indexOf('"a.dep"')).toBeLessThan(text.indexOf('"z.dep"'));
    expect(parseLock(text, "ggen.lock")).toEqual(JSON.parse(text));
  });

  it("reports broken JSON at file:line:col", () => {
    const text = '{\n  "lockfileVersion": 1,\n  "packs": { oops }\n}\n';
    expect(() => parseLock(text, "ggen.lock")).toThrow(/not valid JSON/);
    try {
      parseLock(text, "ggen.lock");
    } catch (e) {
      expect((e as { location?: { line?: number } }).location?.line).toBe(3);
      expect((e as { kind?: string }).kind).toBe("usage");
    }
  });

  it("reports nonsense that is valid JSON, naming the entry", () => {
    const text = JSON.stringify(
      { lockfileVersion: 1, packs: { "io.a": { ...entry, sha256: "nope" } } },
      null,
      2,
    );
    expect(() => parseLock(text, "ggen.lock")).toThrow(
      /invalid lockfile: \/packs\/io.a\/sha256 must match pattern/,
    );
    expect(() => parseLock('{"lockfileVersion": 7, "packs": {}}', "ggen.lock")).toThrow(
      /lockfileVersion must be 1/,
    );
    expect(() => parseLock('{"lockfileVersion": 1, "packs": {"../x": {}}}', "ggen.lock")).toThrow(/invalid/);
    expect(() => parseLock("[1,2]", "ggen.lock")).toThrow(/invalid lockfile/);
  });
});
