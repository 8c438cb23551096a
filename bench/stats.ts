/** Small statistics for the benchmark: a latency histogram and median/min/max over runs. */

/** Latency histogram in 0.1 ms buckets up to 10 s (the last bucket holds everything slower). */
export const BUCKETS = 100_000;

export function percentile(hist: ArrayLike<number>, p: number): number {
  let total = 0;
  for (let i = 0; i < hist.length; i++) total += hist[i] as number;
  if (total === 0) return Number.NaN;
  const target = Math.ceil(total * p);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i] as number;
    if (seen >= target) return (i + 1) / 10;
  }
  return hist.length / 10;
}

export function mergeHist(into: Float64Array, from: ArrayLike<number>): void {
  for (let i = 0; i < from.length; i++) into[i] = (into[i] as number) + (from[i] as number);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** "median (min..max)" with `digits` decimals; one run prints just the value. */
export function summary(values: readonly number[], digits = 1): string {
  if (values.length === 0) return "-";
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(digits) : "-");
  if (values.length === 1) return f(values[0] as number);
  return `${f(median(values))} (${f(Math.min(...values))}..${f(Math.max(...values))})`;
}
