/**
 * When the primary starts a worker again after one died (having listened): at once the first time,
 * then, while a worker of that index keeps dying within `QUICK_DEATH_MS` of its start, after a
 * delay doubling from `FIRST_DELAY_MS` up to `MAX_DELAY_MS` (a worker that crashes on every request
 * is not restarted in a tight loop, and its crash logs do not flood). A worker that lived longer
 * resets its index's count. No I/O: the caller passes the time.
 */
export const QUICK_DEATH_MS = 10_000;
export const FIRST_DELAY_MS = 500;
export const MAX_DELAY_MS = 30_000;

export class RestartBackoff {
  private readonly startedAt = new Map<number, number>();
  private readonly quickDeaths = new Map<number, number>();

  started(index: number, now: number): void {
    this.startedAt.set(index, now);
  }

  /** The worker of `index` died at `now`: how long to wait before starting its replacement. */
  died(index: number, now: number): number {
    const lived = now - (this.startedAt.get(index) ?? now);
    const deaths = lived < QUICK_DEATH_MS ? (this.quickDeaths.get(index) ?? 0) + 1 : 0;
    this.quickDeaths.set(index, deaths);
    if (deaths <= 1) return 0;
    return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (deaths - 2));
  }
}
