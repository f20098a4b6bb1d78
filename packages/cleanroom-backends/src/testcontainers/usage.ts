// A container's resource use, read from its own cgroup with one exec: Docker's stats endpoint takes a
// second to answer (it waits for its next sample), which a test run would spend doing nothing.
import type { BackendMetrics } from "../backend.js";

/** Prints the cgroup files that hold CPU time and peak memory, v2 first, v1 otherwise, one `name value…`
 * line each. */
export const USAGE_SCRIPT = [
  "c=/sys/fs/cgroup",
  'if [ -f "$c/cpu.stat" ]; then',
  '  sed "s/^/v2.cpu /" "$c/cpu.stat"',
  '  echo "v2.peak $(cat "$c/memory.peak" 2>/dev/null || cat "$c/memory.current" 2>/dev/null || echo 0)"',
  "else",
  '  echo "v1.usage $(cat "$c/cpuacct/cpuacct.usage" 2>/dev/null || cat "$c/cpu,cpuacct/cpuacct.usage" 2>/dev/null || echo 0)"',
  '  sed "s/^/v1.stat /" "$c/cpuacct/cpuacct.stat" 2>/dev/null || sed "s/^/v1.stat /" "$c/cpu,cpuacct/cpuacct.stat" 2>/dev/null',
  '  echo "v1.peak $(cat "$c/memory/memory.max_usage_in_bytes" 2>/dev/null || echo 0)"',
  "fi",
].join("\n");

export interface CgroupUsage {
  cpuUserMs: number;
  cpuSystemMs: number;
  peakMemoryMb: number;
}

/** Parses USAGE_SCRIPT's output; undefined when it holds no CPU figure (no cgroup files readable). */
export function parseCgroupUsage(text: string): CgroupUsage | undefined {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    const parts = line.trim().split(/\s+/);
    if (parts.length === 3) values.set(`${parts[0]}.${parts[1]}`, Number(parts[2]));
    else if (parts.length === 2) values.set(parts[0]!, Number(parts[1]));
  }
  const mb = (bytes: number | undefined) => (bytes && Number.isFinite(bytes) ? bytes / 1024 / 1024 : 0);
  if (values.has("v2.cpu.usage_usec")) {
    return {
      cpuUserMs: (values.get("v2.cpu.user_usec") ?? 0) / 1000,
      cpuSystemMs: (values.get("v2.cpu.system_usec") ?? 0) / 1000,
      peakMemoryMb: mb(values.get("v2.peak")),
    };
  }
  const totalNs = values.get("v1.usage");
  if (totalNs === undefined || !Number.isFinite(totalNs) || totalNs <= 0) return undefined;
  // cpuacct.stat counts in USER_HZ ticks, whose size the container does not say: it only splits the
  // exact total (cpuacct.usage, in ns) between user and system.
  const user = values.get("v1.stat.user") ?? 0;
  const system = values.get("v1.stat.system") ?? 0;
  const share = user + system > 0 ? user / (user + system) : 1;
  const totalMs = totalNs / 1e6;
  return {
    cpuUserMs: totalMs * share,
    cpuSystemMs: totalMs * (1 - share),
    peakMemoryMb: mb(values.get("v1.peak")),
  };
}

/** The part of Docker's stats answer that metrics read. */
export interface DockerStats {
  memory_stats?: { usage?: number; max_usage?: number };
  cpu_stats?: {
    online_cpus?: number;
    system_cpu_usage?: number;
    cpu_usage?: { total_usage?: number; usage_in_usermode?: number; usage_in_kernelmode?: number };
  };
  precpu_stats?: { system_cpu_usage?: number; cpu_usage?: { total_usage?: number } };
}

/** Metrics from Docker's stats (a second slower than the cgroup read; for images without sh). */
export function statsMetrics(stats: DockerStats): BackendMetrics {
  const mem = stats.memory_stats?.max_usage ?? stats.memory_stats?.usage ?? 0;
  const cpuDelta =
    (stats.cpu_stats?.cpu_usage?.total_usage ?? 0) - (stats.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const sysDelta = (stats.cpu_stats?.system_cpu_usage ?? 0) - (stats.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = stats.cpu_stats?.online_cpus ?? 1;
  return {
    peakMemoryMb: Math.round((mem / 1024 / 1024) * 10) / 10,
    cpuPercent: sysDelta > 0 ? Math.round((cpuDelta / sysDelta) * cpus * 1000) / 10 : 0,
    cpuUserMs: Math.round((stats.cpu_stats?.cpu_usage?.usage_in_usermode ?? 0) / 1e6),
    cpuSystemMs: Math.round((stats.cpu_stats?.cpu_usage?.usage_in_kernelmode ?? 0) / 1e6),
  };
}
