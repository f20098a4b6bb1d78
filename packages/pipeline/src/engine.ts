// The test engine (sessions, runners, what a project needs), imported here and nowhere else in this
// package: the one line that names the package it comes from. Loaded on first use, so a caller that
// never tests (or --help) does not pay for it.

export type { Need, SessionResult, UnitEvent } from "@ggen/testing";

export async function loadEngine() {
  const m = await import("@ggen/testing");
  return {
    detectNeeds: m.detectNeeds,
    runPassed: m.runPassed,
    runSession: m.runSession,
    selectFiles: m.selectFiles,
    testProject: m.testProject,
    WORKSPACE: m.WORKSPACE,
  };
}
