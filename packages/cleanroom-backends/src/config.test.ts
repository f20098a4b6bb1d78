import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultConfig, loadConfig } from "./config.js";

describe("config.toml", () => {
  it("defaults to public images with local fallbacks, and reads overrides", () => {
    const dir = mkdtempSync(join(tmpdir(), "ggen-config-"));
    try {
      expect(loadConfig(dir)).toEqual(defaultConfig());
      expect(defaultConfig().containers.images.postgres).toBe("postgres:16-alpine");
      writeFileSync(
        join(dir, "config.toml"),
        [
          "[backend]",
          'type = "local"',
          "[containers]",
          "pull = false",
          "[containers.images]",
          'postgres = "ggen/postgres:15-debian"',
          "[environment]",
          "default_memory_mb = 256",
          "[local]",
          'redis_binary = "/opt/redis-server"',
        ].join("\n"),
      );
      const c = loadConfig(dir, { environment: { defaultPids: 10 } });
      expect(c.backend.type).toBe("local");
      expect(c.containers.pull).toBe(false);
      expect(c.containers.images.postgres).toBe("ggen/postgres:15-debian");
      expect(c.containers.images.redis).toBe("redis:7-alpine");
      expect(c.environment.defaultMemoryMb).toBe(256);
      expect(c.environment.defaultPids).toBe(10);
      expect(c.local.redisBinary).toBe("/opt/redis-server");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports a TOML error with its location as a usage error", () => {
    const dir = mkdtempSync(join(tmpdir(), "ggen-config-"));
    try {
      writeFileSync(join(dir, "config.toml"), "[backend]\ntype = \n");
      expect(() => loadConfig(dir)).toThrow(
        expect.objectContaining({ code: "CLEANROOM_CONFIG", kind: "usage" }),
      );
      try {
        loadConfig(dir);
      } catch (error) {
        expect((error as { location: { file: string; line?: number } }).location.line).toBe(2);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
