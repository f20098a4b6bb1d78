// The default table renderer stays linear: 8× the rows or 8× the bytes of one value costs about 8× the
// time (target ratio ≤ 10; it once overflowed the stack at 300,000 rows and was quadratic-ish on a 64 MiB
// value).
import { measure, ratio, record } from "@ggen/bench";
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
  let lines = 0;
  const rowsBase = await measure("table, 37,500 rows", () => table(few, columns), { runs: 5, warmup: 1 });
  const rowsBig = await measure(
    "table, 300,000 rows",
    () => {
      lines = table(many, columns).split("\n").length;
    },
    { runs: 5, warmup: 1 },
  );
  const small = big(8);
  const large = big(64);
  let length = 0;
  const bytesBase = await measure("table, one 8 MiB value", () => table(small, columns), {
    runs: 3,
    warmup: 1,
  });
  const bytesBig = await measure(
    "table, one 64 MiB value",
    () => {
      length = table(large, columns).length;
    },
    { runs: 3, warmup: 1 },
  );
  record("reporter-table", [ratio(rowsBig, rowsBase, 10), ratio(bytesBig, bytesBase, 10)]);
  expect(lines).toBe(300_002);
  expect(length).toBeGreaterThan(64 << 20);
});
