/**
 * Primary side of `queued` in a cluster: how many subscribers, on every worker, each event was
 * queued for. Every worker reports its own counts once it has written a turn's events (`counted`);
 * an append's answer is held until every worker the events went to has reported them, so a publish
 * answers `queued` for the whole machine, as one process does.
 *
 * Bounds: an answer is held at most `maxHoldMs` (a worker stuck in a long write still lets it go,
 * with the counts in so far); a worker that exits is no longer waited for. Sums are kept for the
 * last `keep` positions (a retry of an older event answers `queued: 0`).
 */
export class DeliveryCounts<W> {
  private readonly sums = new Map<number, number>();
  private readonly countedUpTo = new Map<W, number>();
  private held: { upTo: number; from: Set<W>; since: number; release: () => void }[] = [];

  constructor(private readonly options: { keep: number; maxHoldMs: number; now?: () => number }) {}

  /** Subscribers counted so far for the event at `pos` (0 when unknown). */
  sum(pos: number): number {
    return this.sums.get(pos) ?? 0;
  }

  /**
   * Runs `release` once every worker of `from` has counted the events up to `upTo` (or has gone,
   * or `maxHoldMs` passed). `from`: the workers the events were sent to.
   */
  hold(upTo: number, from: Iterable<W>, release: () => void): void {
    const waiting = new Set<W>();
    for (const worker of from) if ((this.countedUpTo.get(worker) ?? 0) < upTo) waiting.add(worker);
    if (waiting.size === 0) release();
    else this.held.push({ upTo, from: waiting, since: this.now(), release });
  }

  /** A worker's counts for the events at positions `first`, `first + 1`, ... */
  counted(worker: W, first: number, counts: readonly number[]): void {
    for (let i = 0; i < counts.length; i++) {
      const pos = first + i;
      this.sums.set(pos, (this.sums.get(pos) ?? 0) + (counts[i] as number));
      this.sums.delete(pos - this.options.keep);
    }
    const last = first + counts.length - 1;
    if (last > (this.countedUpTo.get(worker) ?? 0)) this.countedUpTo.set(worker, last);
    this.settle((h) => {
      if (h.upTo <= last) h.from.delete(worker);
    });
  }

  /** A worker exited: no answer waits for it any more. */
  gone(worker: W): void {
    this.countedUpTo.delete(worker);
    this.settle((h) => h.from.delete(worker));
  }

  /** Lets go of the answers held longer than `maxHoldMs` (call it from a timer). */
  expire(): void {
    const cutoff = this.now() - this.options.maxHoldMs;
    this.settle((h) => {
      if (h.since <= cutoff) h.from.clear();
    });
  }

  get heldCount(): number {
    return this.held.length;
  }

  private settle(update: (h: (typeof this.held)[number]) => void): void {
    if (this.held.length === 0) return;
    const still: typeof this.held = [];
    for (const h of this.held) {
      update(h);
      if (h.from.size === 0) h.release();
      else still.push(h);
    }
    this.held = still;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
