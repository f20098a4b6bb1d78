// Rendering a 10,000-test run to JUnit XML and to HTML, in-process; target ≤ 200 ms each.
import { measure, record, withTarget } from "@ggen/bench";
import { expect, it } from "vitest";
import { renderJunit, renderRunHtml } from "../src/index.js";
import { sampleRun } from "../src/render/fixtures.test-helpers.js";

it("renders 10,000 tests to JUnit and HTML", async () => {
  const run = sampleRun(10_000, 7);
  let junitBytes = 0;
  let htmlBytes = 0;
  const junit = withTarget(
    await measure(
      "JUnit XML, 10,000 tests",
      () => {
        junitBytes = renderJunit(run).length;
      },
      { runs: 15, warmup: 3 },
    ),
    200,
  );
  const html = withTarget(
    await measure(
      "HTML report, 10,000 tests",
      () => {
        htmlBytes = renderRunHtml(run).length;
      },
      { runs: 15, warmup: 3 },
    ),
    200,
  );
  record("reporter-render", [junit, html]);
  expect(junitBytes).toBeGreaterThan(1_000_000);
  expect(htmlBytes).toBeGreaterThan(1_000_000);
});
