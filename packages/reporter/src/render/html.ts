// Self-contained HTML reports (inline CSS and SVG, no script, no external resource): a summary, the
// failures first, a timeline chart of stages and steps, and every test. Built by string joining so
// 10,000 tests render in a few milliseconds.

import type { CleanroomRun, PipelineReport, TestResult } from "@ggen/contract";
import {
  failuresFirst,
  formatMs,
  isFailure,
  runTimeline,
  type TimelineBar,
  escapeXml as x,
} from "./shared.js";

const CSS = `
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
main{max-width:1100px;margin:0 auto;padding:24px}h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}
.meta{color:#57606a}.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600;color:#fff;font-size:13px;vertical-align:middle}
.ok{background:#1a7f37}.bad{background:#cf222e}.warn{background:#9a6700}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin-top:16px}.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:10px 16px;min-width:110px}
.card b{display:block;font-size:22px}.card span{color:#57606a;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.failure{background:#fff;border:1px solid #ffcecb;border-left:4px solid #cf222e;border-radius:6px;padding:10px 14px;margin:8px 0}
.failure h3{font-size:14px;margin:0 0 4px}pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:8px;overflow:auto;max-height:320px;font-size:12px;white-space:pre-wrap}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d0d7de}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;font-size:13px;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.s-passed,.s-success{color:#1a7f37}.s-failed,.s-errored,.s-timed-out{color:#cf222e;font-weight:600}.s-skipped,.s-rolled-back{color:#9a6700}
.chart{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:8px;overflow-x:auto}
details summary{cursor:pointer;margin:6px 0}`;

const COLORS: Record<string, string> = {
  passed: "#2da44e",
  success: "#2da44e",
  failed: "#cf222e",
  errored: "#cf222e",
  "timed-out": "#bc4c00",
  skipped: "#bf8700",
  "rolled-back": "#bf8700",
};

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${x(title)}</title><style>${CSS}</style></head>
<body><main>${body}</main></body></html>
`;
}

/** An SVG Gantt chart: one row per bar, stages on top, x axis in seconds. */
export function timelineSvg(bars: readonly TimelineBar[], maxRows = 200): string {
  const ordered = [...bars.filter((b) => b.lane === "stage"), ...bars.filter((b) => b.lane === "step")].slice(
    0,
    maxRows,
  );
  if (ordered.length === 0) return '<p class="meta">No timeline recorded.</p>';
  const end = Math.max(1, ...ordered.map((b) => b.startMs + b.durationMs));
  const labelW = 220;
  const chartW = 760;
  const rowH = 20;
  const top = 22;
  const h = top + ordered.length * rowH + 6;
  const sx = (ms: number) => labelW + (ms / end) * chartW;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + chartW + 20}" height="${h}" role="img" aria-label="timeline" data-testid="timeline">`,
  ];
  const ticks = 5;
  for (let i = 0; i <= ticks; i++) {
    const ms = (end * i) / ticks;
    const px = sx(ms).toFixed(1);
    parts.push(
      `<line x1="${px}" y1="${top - 4}" x2="${px}" y2="${h}" stroke="#eaeef2"/><text x="${px}" y="12" font-size="10" text-anchor="middle" fill="#57606a">${x(formatMs(ms))}</text>`,
    );
  }
  ordered.forEach((b, i) => {
    const y = top + i * rowH;
    const w = Math.max(2, (b.durationMs / end) * chartW);
    const label = b.name.length > 34 ? `…${b.name.slice(-33)}` : b.name;
    parts.push(
      `<g class="bar bar-${b.lane}" data-name="${x(b.name)}" data-status="${x(b.status)}"><text x="${labelW - 6}" y="${y + 14}" font-size="11" text-anchor="end" fill="#1f2328"${b.lane === "stage" ? ' font-weight="600"' : ""}>${x(label)}</text><rect x="${sx(b.startMs).toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" rx="3" fill="${COLORS[b.status] ?? "#8c959f"}"${b.lane === "stage" ? ' opacity="0.6"' : ""}><title>${x(`${b.name}: ${b.status}, ${formatMs(b.durationMs)} from ${formatMs(b.startMs)}`)}</title></rect></g>`,
    );
  });
  if (bars.length > maxRows)
    parts.push(
      `<text x="4" y="${h - 2}" font-size="10" fill="#57606a">+${bars.length - maxRows} more</text>`,
    );
  parts.push("</svg>");
  return parts.join("");
}

function card(label: string, value: string | number, id: string): string {
  return `<div class="card" data-testid="${id}"><b>${x(String(value))}</b><span>${x(label)}</span></div>`;
}

function testRow(t: TestResult): string {
  return `<tr class="test" data-status="${t.status}"><td class="s-${t.status}">${t.status}</td><td>${x(t.file)}</td><td>${x(t.suite ? `${t.suite} › ${t.name}` : t.name)}</td><td class="num">${formatMs(t.durationMs)}</td></tr>`;
}

export interface RunHtmlOptions {
  title?: string;
  /** Steps recorded during the run (runner invocations, scenario steps). */
  timeline?: readonly TimelineBar[];
}

export function renderRunHtml(run: CleanroomRun, options: RunHtmlOptions = {}): string {
  const s = run.summary;
  const bad = s.failed + s.errored + s.timedOut > 0;
  const title = options.title ?? `cleanroom run ${run.runId}`;
  const failures = run.tests.filter(isFailure);
  const body: string[] = [
    `<header><h1>${x(title)} <span class="badge ${bad ? "bad" : "ok"}" data-testid="status">${bad ? "FAILED" : "PASSED"}</span></h1>`,
    `<div class="meta">${x(run.startedAt)} · ${x(run.environment.name)} on ${x(run.environment.backend)}${run.environment.isolation.mechanism ? ` (${x(run.environment.isolation.mechanism)})` : ""} · ${formatMs(run.timings.totalMs)}</div></header>`,
    `<section class="cards" data-testid="summary">${card("tests", s.total, "total")}${card("passed", s.passed, "passed")}${card("failed", s.failed, "failed")}${card("errored", s.errored, "errored")}${card("timed out", s.timedOut, "timed-out")}${card("skipped", s.skipped, "skipped")}${card("duration", formatMs(run.timings.totalMs), "duration")}</section>`,
  ];
  body.push(`<section data-testid="failures"><h2>Failures (${failures.length})</h2>`);
  if (failures.length === 0) body.push('<p class="meta">None.</p>');
  for (const t of failures.slice(0, 500)) {
    body.push(
      `<div class="failure" data-testid="failure"><h3><span class="s-${t.status}">${t.status}</span> ${x(t.file)} › ${x(t.suite ? `${t.suite} › ${t.name}` : t.name)}</h3>${t.failureMessage ? `<div class="msg">${x(t.failureMessage)}</div>` : ""}${t.outputTail ? `<pre>${x(t.outputTail)}</pre>` : ""}</div>`,
    );
  }
  if (failures.length > 500)
    body.push(`<p class="meta">… ${failures.length - 500} more failures in the table below.</p>`);
  body.push("</section>");
  body.push(
    `<section><h2>Timeline</h2><div class="chart">${timelineSvg(runTimeline(run, options.timeline))}</div></section>`,
  );
  if (run.services.length > 0) {
    body.push(
      `<section><h2>Services</h2><table><tr><th>service</th><th>from</th><th>endpoint</th><th>ready</th></tr>${run.services
        .map(
          (v) =>
            `<tr><td>${x(v.name)}</td><td>${x(v.image ?? v.binary ?? "")}</td><td>${x(v.endpoint ?? "")}</td><td class="num">${formatMs(v.readyMs)}</td></tr>`,
        )
        .join("")}</table></section>`,
    );
  }
  body.push(
    `<section><h2>Tests (${run.tests.length})</h2><table data-testid="tests"><thead><tr><th>status</th><th>file</th><th>test</th><th>time</th></tr></thead><tbody>${failuresFirst(run.tests).map(testRow).join("")}</tbody></table></section>`,
  );
  if (run.sources && run.sources.length > 0) {
    body.push(
      `<section><details><summary>Sources (${run.sources.length})</summary><table>${run.sources.map((r) => `<tr><td>${x(r.path)}</td><td><code>${r.sha256}</code></td></tr>`).join("")}</table></details></section>`,
    );
  }
  return page(title, body.join("\n"));
}

export function pipelineTimeline(report: PipelineReport): TimelineBar[] {
  let at = 0;
  return Object.entries(report.stages).map(([name, st]) => {
    const start = st.startedAtMs ?? at;
    at = start + st.durationMs;
    return { name, lane: "stage" as const, startMs: start, durationMs: st.durationMs, status: st.status };
  });
}

export function renderPipelineHtml(report: PipelineReport): string {
  const status = report.deploymentStatus;
  const cls = status === "READY" ? "ok" : status === "NOT_READY" || status === "ROLLED_BACK" ? "warn" : "bad";
  const m = report.metrics;
  const body: string[] = [
    `<header><h1>${x(report.name)}${report.version ? ` ${x(report.version)}` : ""} <span class="badge ${cls}" data-testid="status">${x(status)}</span></h1>`,
    `<div class="meta">${x(report.startedAt)}${report.environment ? ` · ${x(report.environment)}` : ""}${report.backend ? ` · ${x(report.backend)}` : ""} · ${formatMs(report.totalDurationMs)} · session ${x(report.sessionId)}</div></header>`,
    `<p data-testid="recommendation"><b>Recommendation:</b> ${x(report.recommendation)}</p>`,
    `<section class="cards" data-testid="summary">${card("tests", m.testsExecuted, "total")}${card("passed", m.testsPassed, "passed")}${card("failed", m.testsFailed, "failed")}${m.coveragePercentage !== undefined ? card("coverage", `${m.coveragePercentage}%`, "coverage") : ""}${m.filesGenerated !== undefined ? card("files generated", m.filesGenerated, "files") : ""}${card("duration", formatMs(report.totalDurationMs), "duration")}</section>`,
  ];
  const failedStages = Object.entries(report.stages).filter(
    ([, s]) => s.status !== "success" && s.status !== "skipped",
  );
  const findings = report.validation.findings ?? [];
  body.push(
    `<section data-testid="failures"><h2>Problems (${failedStages.length + findings.filter((f) => f.severity === "error").length})</h2>`,
  );
  for (const [name, s] of failedStages)
    body.push(
      `<div class="failure" data-testid="failure"><h3><span class="s-${s.status}">${s.status}</span> ${x(name)}</h3>${s.message ? `<div class="msg">${x(s.message)}</div>` : ""}</div>`,
    );
  for (const f of findings)
    body.push(
      `<div class="failure" data-testid="finding"><h3>${x(f.severity)}: ${x(f.check)}</h3><div class="msg">${f.file ? `${x(f.file)}${f.line ? `:${f.line}` : ""}: ` : ""}${x(f.message)}</div></div>`,
    );
  if (failedStages.length === 0 && findings.length === 0) body.push('<p class="meta">None.</p>');
  body.push("</section>");
  body.push(
    `<section><h2>Timeline</h2><div class="chart">${timelineSvg(pipelineTimeline(report))}</div></section>`,
  );
  body.push(
    `<section><h2>Stages</h2><table data-testid="stages"><tr><th>stage</th><th>status</th><th>time</th><th>note</th></tr>${Object.entries(
      report.stages,
    )
      .map(
        ([n, s]) =>
          `<tr><td>${x(n)}</td><td class="s-${s.status}">${s.status}</td><td class="num">${formatMs(s.durationMs)}</td><td>${x(s.message ?? "")}</td></tr>`,
      )
      .join("")}</table></section>`,
  );
  const checks = Object.entries(report.validation).filter(([, v]) => typeof v === "boolean") as [
    string,
    boolean,
  ][];
  const skipped = new Set(report.validation.skipped ?? []);
  body.push(
    `<section><h2>Validation</h2><table data-testid="validation">${checks.map(([k, v]) => (skipped.has(k) ? `<tr><td>${x(k)}</td><td class="s-skipped">- skipped</td></tr>` : `<tr><td>${x(k)}</td><td class="${v ? "s-passed" : "s-failed"}">${v ? "✓ yes" : "✗ no"}</td></tr>`)).join("")}</table></section>`,
  );
  const a = report.attestation;
  body.push(
    `<section><h2>Attestation</h2><table><tr><td>digest</td><td><code>${x(a.digest)}</code></td></tr><tr><td>signed</td><td>${a.signed ? "yes" : "no"}</td></tr><tr><td>hermetic</td><td>${a.hermeticExecution ? "yes" : "no"}</td></tr><tr><td>deterministic</td><td>${a.deterministic ? "yes" : "no"}</td></tr><tr><td>reproducible</td><td>${a.reproducible ? "yes" : "no"}</td></tr>${a.statementPath ? `<tr><td>statement</td><td>${x(a.statementPath)}</td></tr>` : ""}${report.deployment?.url ? `<tr><td>deployed</td><td>${x(report.deployment.url)}</td></tr>` : ""}</table></section>`,
  );
  return page(`${report.name} pipeline report`, body.join("\n"));
}
