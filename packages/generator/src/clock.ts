// Milliseconds from a monotonic clock. Not `performance.now()`: Node loads perf_hooks on the first use of
// the `performance` global, a noticeable part of a short `ggen gen`.
export const clockMs = (): number => Number(process.hrtime.bigint()) / 1e6;
