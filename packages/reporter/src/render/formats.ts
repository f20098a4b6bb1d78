// One entry per format, for commands with `--format`.

import type { CleanroomRun, PipelineReport } from "@ggen/contract";
import { renderPipelineHtml, renderRunHtml } from "./html.js";
import { renderJunit } from "./junit.js";
import type { TimelineBar } from "./shared.js";
import { renderTap } from "./tap.js";
import { renderPipelineText, renderRunText } from "./text.js";

export type RunFormat = "text" | "json" | "junit" | "html" | "tap";
export const runFormats = ["text", "json", "junit", "html", "tap"] as const satisfies readonly RunFormat[];
export type PipelineFormat = "text" | "json" | "html";

export function renderRun(
  run: CleanroomRun,
  format: RunFormat,
  options: { timeline?: readonly TimelineBar[] } = {},
): string {
  switch (format) {
    case "text":
      return `${renderRunText(run, { all: true })}\n`;
    case "json":
      return `${JSON.stringify(run, null, 2)}\n`;
    case "junit":
      return renderJunit(run);
    case "html":
      return renderRunHtml(run, options.timeline ? { timeline: options.timeline } : {});
    case "tap":
      return renderTap(run);
  }
}

export function renderPipeline(report: PipelineReport, format: PipelineFormat): string {
  switch (format) {
    case "text":
      return `${renderPipelineText(report)}\n`;
    case "json":
      return `${JSON.stringify(report, null, 2)}\n`;
    case "html":
      return renderPipelineHtml(report);
  }
}
