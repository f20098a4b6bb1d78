// A small offline advisory list for the dependency audit, shipped with the package so `validate
// --check security` works without a network. Each entry is a real, published advisory; a project adds
// its own in a JSON file named by [validation] advisories (same shape). Versions use comparators
// (`<4.17.21`, `>=1.0.0 <1.2.6`) joined by `||`.

export interface Advisory {
  id: string;
  ecosystem: "npm" | "crates";
  package: string;
  vulnerable: string;
  severity: "error" | "warning";
  title: string;
}

export const ADVISORIES: readonly Advisory[] = [
  {
    id: "CVE-2021-23337",
    ecosystem: "npm",
    package: "lodash",
    vulnerable: "<4.17.21",
    severity: "error",
    title: "command injection in template",
  },
  {
    id: "CVE-2021-44906",
    ecosystem: "npm",
    package: "minimist",
    vulnerable: "<1.2.6",
    severity: "error",
    title: "prototype pollution",
  },
  {
    id: "CVE-2022-0235",
    ecosystem: "npm",
    package: "node-fetch",
    vulnerable: "<2.6.7 || >=3.0.0 <3.1.1",
    severity: "error",
    title: "exposure of sensitive information to an unauthorized actor",
  },
  {
    id: "CVE-2022-46175",
    ecosystem: "npm",
    package: "json5",
    vulnerable: "<1.0.2 || >=2.0.0 <2.2.2",
    severity: "error",
    title: "prototype pollution in parse",
  },
  {
    id: "CVE-2022-25883",
    ecosystem: "npm",
    package: "semver",
    vulnerable: "<5.7.2 || >=6.0.0 <6.3.1 || >=7.0.0 <7.5.2",
    severity: "warning",
    title: "regular expression denial of service",
  },
  {
    id: "CVE-2023-26136",
    ecosystem: "npm",
    package: "tough-cookie",
    vulnerable: "<4.1.3",
    severity: "warning",
    title: "prototype pollution",
  },
  {
    id: "CVE-2022-24999",
    ecosystem: "npm",
    package: "qs",
    vulnerable: "<6.10.3",
    severity: "error",
    title: "prototype pollution",
  },
  {
    id: "GHSA-mh6f-8j2x-4483",
    ecosystem: "npm",
    package: "event-stream",
    vulnerable: ">=3.3.6 <4.0.0",
    severity: "error",
    title: "malicious code (flatmap-stream)",
  },
  {
    id: "CVE-2021-3918",
    ecosystem: "npm",
    package: "json-schema",
    vulnerable: "<0.4.0",
    severity: "error",
    title: "prototype pollution",
  },
  {
    id: "CVE-2024-4068",
    ecosystem: "npm",
    package: "braces",
    vulnerable: "<3.0.3",
    severity: "warning",
    title: "uncontrolled resource consumption",
  },
  {
    id: "RUSTSEC-2020-0071",
    ecosystem: "crates",
    package: "time",
    vulnerable: ">=0.1.0 <0.2.23",
    severity: "error",
    title: "potential segfault in localtime_r invocations",
  },
  {
    id: "RUSTSEC-2021-0124",
    ecosystem: "crates",
    package: "tokio",
    vulnerable: "<1.8.4 || >=1.9.0 <1.13.1",
    severity: "error",
    title: "data race when sending and receiving after closing a oneshot channel",
  },
  {
    id: "RUSTSEC-2023-0034",
    ecosystem: "crates",
    package: "h2",
    vulnerable: "<0.3.17",
    severity: "warning",
    title: "resource exhaustion vulnerability",
  },
  {
    id: "RUSTSEC-2018-0010",
    ecosystem: "crates",
    package: "openssl",
    vulnerable: ">=0.10.8 <0.10.9",
    severity: "error",
    title: "use after free in CMS signing",
  },
];

type Version = [number, number, number];

export function parseVersion(v: string): Version | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(v.trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

function cmp(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Whether `version` falls in `range` (comparators ANDed by space, alternatives ORed by `||`). */
export function inRange(version: string, range: string): boolean {
  const v = parseVersion(version);
  if (!v) return false;
  return range.split("||").some((alt) =>
    alt
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .every((c) => {
        const m = /^(<=|>=|<|>|=)?(.+)$/.exec(c);
        const target = m && parseVersion(m[2]!);
        if (!m || !target) return false;
        const d = cmp(v, target);
        switch (m[1]) {
          case "<":
            return d < 0;
          case "<=":
            return d <= 0;
          case ">":
            return d > 0;
          case ">=":
            return d >= 0;
          default:
            return d === 0;
        }
      }),
  );
}
