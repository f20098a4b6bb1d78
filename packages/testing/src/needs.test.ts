import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { isGgenError } from "@ggen/contract";
import { afterEach, describe, expect, it } from "vitest";
import { detectNeeds } from "./needs.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tree(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), "needs-"));
  dirs.push(d);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(d, rel)), { recursive: true });
    writeFileSync(join(d, rel), text);
  }
  return d;
}

describe("detectNeeds", () => {
  it("reads .cleanroom/needs, package.json, Cargo.toml and file contents", () => {
    expect(detectNeeds(tree({ ".cleanroom/needs": "# services\nredis\n" }), [])).toEqual([
      { service: "redis", because: ".cleanroom/needs" },
    ]);
    expect(detectNeeds(tree({ "package.json": JSON.stringify({ dependencies: { pg: "^8" } }) }), [])).toEqual(
      [{ service: "postgres", because: "package.json depends on pg" }],
    );
    expect(detectNeeds(tree({ "Cargo.toml": '[dependencies]\nsqlx = "0.7"\nredis = "0.25"\n' }), [])).toEqual(
      [
        { service: "postgres", because: "Cargo.toml depends on sqlx" },
        { service: "redis", because: "Cargo.toml depends on redis" },
      ],
    );
    const d = tree({
      "src/db.ts": "const url = process.env.DATABASE_URL;",
      "db/schema.sql": "create table t();",
    });
    expect(detectNeeds(d, ["src/db.ts"]).map((n) => n.service)).toEqual(["postgres"]);
    expect(detectNeeds(d, ["db/schema.sql"])[0]!.because).toBe("db/schema.sql is SQL");
    expect(detectNeeds(tree({ "src/a.ts": "export {}" }), ["src/a.ts"])).toEqual([]);
  });

  it("an unknown service in .cleanroom/needs is a usage error at its line", () => {
    const d = tree({ ".cleanroom/needs": "postgres\n  mongo\n" });
    try {
      detectNeeds(d, []);
      expect.unreachable();
    } catch (e) {
      expect(isGgenError(e) && e.toLine()).toBe(
        `${join(d, ".cleanroom/needs")}:2:3: unknown service 'mongo' (services: postgres, redis)`,
      );
    }
  });
});
