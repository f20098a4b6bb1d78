// UTC timestamps without V8's Date.prototype.toISOString, which first sets up ICU's time zone (its data
// paged in from Node's binary: ≈ 0.7 ms at its first call) though a UTC stamp never needs one — a share a
// short command notices (`ggen gen`'s manifest, a cleanroom run's record).

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** What `date.toISOString()` gives (RangeError on an invalid date, as it does), from the UTC fields. */
export function isoTime(date: Date | number = Date.now()): string {
  const d = typeof date === "number" ? new Date(date) : date;
  const year = d.getUTCFullYear();
  if (Number.isNaN(year)) throw new RangeError("Invalid time value");
  // Years outside 0–9999 are written ±YYYYYY: rare enough to leave to V8.
  if (year < 0 || year > 9999) return d.toISOString();
  return `${pad(year, 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}Z`;
}
