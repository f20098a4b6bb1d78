// The test engine (sessions, runners, what a project needs), imported here and nowhere else in this
// package: the one line that names the package it comes from. Loaded on first use, so a caller that
// never tests (or --help) does not pay for it.

export type { ExecFn, Need, SessionResult, UnitEvent, WorkContext } from "@ggen/testing";

export async function loadEngine() {
  const m = await import("@ggen/testing");
  return {
    backendExec: m.backendExec,
    detectNeeds: m.detectNeeds,
    parseUnit: m.parseUnit,
    runPassed: m.runPassed,
    runSession: m.runSession,
    selectFiles: m.selectFiles,
    spawnExec: m.spawnExec,
    tail: m.tail,
    testProject: m.testProject,
    uniqueIds: m.uniqueIds,
    WORKSPACE: m.WORKSPACE,
  };
}
