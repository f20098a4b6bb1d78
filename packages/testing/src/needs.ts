// What generated output needs to run its tests, decided from the output itself (first rule that
// names a service wins for it; all rules add up):
//   1. `.cleanroom/needs` in the output root: one service per line (postgres, redis; # comments).
//   2. package.json dependencies: pg, postgres, pg-promise, knex, sequelize, typeorm, @prisma/client,
//      drizzle-orm → postgres; redis, ioredis → redis.
//   3. Cargo.toml dependencies: sqlx, tokio-postgres, postgres, diesel → postgres; redis → redis.
//   4. Any generated file (as listed in the manifest) that mentions DATABASE_URL, or is *.sql →
//      postgres; REDIS_URL → redis.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GgenError } from "@ggen/contract";

export const serviceKinds = ["postgres", "redis"] as const;
export type NeededService = (typeof serviceKinds)[number];

export interface Need {
  service: NeededService;
  because: string;
}

const NPM: Record<string, NeededService> = {
  pg: "postgres",
  postgres: "postgres",
  "pg-promise": "postgres",
  knex: "postgres",
  sequelize: "postgres",
  typeorm: "postgres",
  "@prisma/client": "postgres",
  "drizzle-orm": "postgres",
  redis: "redis",
  ioredis: "redis",
};
const CARGO: Record<string, NeededService> = {
  sqlx: "postgres",
  "tokio-postgres": "postgres",
  postgres: "postgres",
  diesel: "postgres",
  redis: "redis",
};

export function detectNeeds(outputRoot: string, files: readonly string[]): Need[] {
  const needs = new Map<NeededService, string>();
  const add = (s: NeededService, because: string) => {
    if (!needs.has(s)) needs.set(s, because);
  };
  const declared = join(outputRoot, ".cleanroom", "needs");
  if (existsSync(declared)) {
    readFileSync(declared, "utf8")
      .split("\n")
      .forEach((raw, i) => {
        const line = raw.replace(/#.*/, "").trim();
        if (!line) return;
        if (!(serviceKinds as readonly string[]).includes(line))
          throw new GgenError("UNKNOWN_SERVICE", `unknown service '${line}'`, {
            kind: "usage",
            location: { file: declared, line: i + 1, column: raw.indexOf(line) + 1 },
            hint: `services: ${serviceKinds.join(", ")}`,
          });
        add(line as NeededService, ".cleanroom/needs");
      });
  }
  const pkg = join(outputRoot, "package.json");
  if (existsSync(pkg)) {
    try {
      const p = JSON.parse(readFileSync(pkg, "utf8")) as Record<string, Record<string, string> | undefined>;
      for (const dep of Object.keys({ ...p.dependencies, ...p.devDependencies }))
        if (NPM[dep]) add(NPM[dep], `package.json depends on ${dep}`);
    } catch {
      // an unreadable package.json is the tests' problem, not ours
    }
  }
  const cargo = join(outputRoot, "Cargo.toml");
  if (existsSync(cargo)) {
    const text = readFileSync(cargo, "utf8");
    for (const [dep, s] of Object.entries(CARGO))
      if (new RegExp(`^\\s*${dep}\\s*=`, "m").test(text)) add(s, `Cargo.toml depends on ${dep}`);
  }
  for (const f of files) {
    if (needs.size === serviceKinds.length) break;
    if (f.endsWith(".sql")) add("postgres", `${f} is SQL`);
    let text = "";
    try {
      text = readFileSync(join(outputRoot, f), "utf8");
    } catch {
      continue;
    }
    if (text.includes("DATABASE_URL")) add("postgres", `${f} reads DATABASE_URL`);
    if (text.includes("REDIS_URL")) add("redis", `${f} reads REDIS_URL`);
  }
  return [...needs].map(([service, because]) => ({ service, because }));
}
