// The default table renderer stays linear: 8× the rows or 8× the bytes of one value costs about 8× the
// time (target ratio ≤ 10; it once overflowed the stack at 300,000 rows and was quadratic-ish on a 64 MiB
// value).
import { compare, record } from "@ggen/bench";
import { expect, it } from "vitest";
import { table } from "../src/index.js";

interface Row {
  id: string;
  value: string;
}

const columns = [
  { header: "ID", value: (r: Row) => r.id },
  { header: "VALUE", value: (r: Row) => r.value },
];

const rows = (n: number): Row[] =>
  Array.from({ length: n }, (_, i) => ({ id: `id-${i}`, value: `value ${i}` }));
// A flat string (String#repeat builds a rope that the first reader would pay to flatten).
const big = (mib: number): Row[] => [{ id: "a", value: Buffer.alloc(mib << 20, 0x78).toString("latin1") }];

it("renders 8× the rows and 8× the bytes in about 8× the time", async () => {
  const few = rows(37_500);
  const many = rows(300_000);
  // Each pair alternately (compare), so that the machine's drift and the heap's growth hit both alike;
  // what is checked of the output is read outside the timing.
  let manyOut = "";
  const byRows = await compare(
    { name: "table, 300,000 rows", fn: () => (manyOut = table(many, columns)) },
    { name: "table, 37,500 rows", fn: () => table(few, columns) },
    { runs: 11, warmup: 2, target: 10 },
  );
  const small = big(8);
  const large = big(64);
  let largeOut = "";
  const byBytes = await compare(
    { name: "table, one 64 MiB value", fn: () => (largeOut = table(large, columns)) },
    { name: "table, one 8 MiB value", fn: () => table(small, columns) },
    { runs: 5, warmup: 1, target: 10 },
  );
  record("reporter-table", [byRows, byBytes]);
  expect(manyOut.split("\n").length).toBe(300_002);
  expect(largeOut.length).toBeGreaterThan(64 << 20);
});
