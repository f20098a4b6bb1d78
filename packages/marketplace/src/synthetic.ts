// A synthetic registry index of many packs (for benchmarks): deterministic from a seed.
import { type IndexPack, REGISTRY_INDEX_FORMAT, type RegistryIndex } from "@ggen/contract";

const WORDS = (
  "rust node python go java kotlin swift ruby php elixir haskell scala deno bun typescript react vue svelte " +
  "angular solid axum actix rocket warp tokio hyper express fastify koa nest next nuxt remix astro django " +
  "flask fastapi rails sinatra laravel symfony spring quarkus micronaut ktor gin echo fiber chi postgres " +
  "postgresql mysql sqlite redis mongodb cassandra kafka rabbitmq nats grpc graphql rest openapi websocket " +
  "docker kubernetes helm terraform ansible nginx caddy traefik prometheus grafana opentelemetry jaeger " +
  "logging metrics tracing auth oauth jwt session cache queue worker cron scheduler cli tui web api " +
  "microservice monolith lambda serverless edge wasm embedded firmware iot mobile desktop electron tauri " +
  "game engine physics audio video image pdf csv json yaml toml markdown docs site blog wiki search index " +
  "crawler scraper etl pipeline stream batch ml inference training notebook dataset schema migration orm " +
  "crud admin dashboard billing payments invoice email sms notification chat bot ci github gitlab actions " +
  "workflow release semver changelog lint format test bench fuzz property mock fixture snapshot e2e load"
).split(" ");
const CATEGORIES = [
  "web",
  "cli",
  "database",
  "infrastructure",
  "ci",
  "docs",
  "messaging",
  "observability",
  "data",
  "security",
];
const LICENSES = ["MIT", "Apache-2.0", "BSD-3-Clause", "MPL-2.0"];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function syntheticIndex(count: number, seed = 42): RegistryIndex {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const hex = () => {
    let s = "";
    for (let i = 0; i < 8; i++)
      s += Math.floor(r() * 0x100000000)
        .toString(16)
        .padStart(8, "0");
    return s;
  };
  const packs: IndexPack[] = [];
  for (let i = 0; i < count; i++) {
    const a = pick(WORDS);
    const b = pick(WORDS);
    const id = `io.synth.${a}-${b}-${i}`;
    const parts = {
      metadata: Math.floor(r() * 101),
      documentation: Math.floor(r() * 101),
      templates: Math.floor(r() * 101),
      dependencies: Math.floor(r() * 101),
    };
    const score = Math.round(
      (parts.metadata + parts.documentation + parts.templates + parts.dependencies) / 4,
    );
    const versions = Array.from({ length: 1 + Math.floor(r() * 3) }, (_, v) => ({
      version: `${1 + v}.${Math.floor(r() * 5)}.${Math.floor(r() * 10)}`,
      url: `archives/${id}-${1 + v}.0.0.tar.gz`,
      sha256: hex(),
      size: 1000 + Math.floor(r() * 50_000),
      published: "2026-01-01T00:00:00Z",
    }));
    packs.push({
      id,
      name: `${a} ${b} ${i}`,
      description: `A ${a} ${b} template pack with ${pick(WORDS)}, ${pick(WORDS)} and ${pick(WORDS)} support`,
      tags: [pick(WORDS), pick(WORDS)],
      keywords: [a, b, pick(WORDS)],
      category: pick(CATEGORIES),
      license: pick(LICENSES),
      quality: { score, parts },
      downloads: Math.floor(r() ** 3 * 1_000_000),
      versions,
    });
  }
  return { format: REGISTRY_INDEX_FORMAT, name: `synthetic-${count}`, packs };
}
