import type { ReplayResult } from "./bus.ts";
import type { HeraldEvent } from "./event.ts";

export interface HistoryOptions {
  /** Most events held; the oldest go first. */
  readonly maxEvents: number;
  /** Longest time an event is held, in ms (0 = no age limit). */
  readonly maxAgeMs: number;
  /** The clock (ms since the Unix epoch); tests pass their own. */
  readonly now?: () => number;
}

/**
 * A bounded in-memory log of events in `pos` order, with an index by id.
 * Contract: `add` must be called in increasing `pos` order (the bus's order). Eviction drops the
 * oldest events first, by count on `add` and by age on `add`/`trim`/`after`. Lookups are O(1) by id
 * and O(log n) by position; a replay scans at most `limit` events.
 */
export class History {
  private readonly ring: (HeraldEvent | undefined)[];
  private start = 0; // index of the oldest event in `ring`
  private count = 0;
  private readonly byId = new Map<string, HeraldEvent>();
  private readonly now: () => number;

  constructor(private readonly options: HistoryOptions) {
    if (!(options.maxEvents >= 1)) throw new RangeError("history maxEvents must be at least 1");
    this.ring = new Array(options.maxEvents);
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.count;
  }

  get(id: string): HeraldEvent | undefined {
    return this.byId.get(id);
  }

  newest(): HeraldEvent | undefined {
    return this.count === 0 ? undefined : this.at(this.count - 1);
  }

  oldest(): HeraldEvent | undefined {
    return this.count === 0 ? undefined : this.at(0);
  }

  add(event: HeraldEvent): void {
    if (this.count === this.ring.length) this.dropOldest();
    this.ring[(this.start + this.count) % this.ring.length] = event;
    this.count++;
    this.byId.set(event.id, event);
    this.trim();
  }

  /** Drops events older than max age. */
  trim(): void {
    if (this.options.maxAgeMs <= 0) return;
    const cutoff = this.now() - this.options.maxAgeMs;
    while (this.count > 0 && this.at(0).time < cutoff) this.dropOldest();
  }

  /**
   * The events after position `pos` (exclusive), in order; `missed/too-old` when more than `limit`
   * follow it. The caller has checked that `pos` is not older than what the history holds.
   */
  after(pos: number, limit: number, headId: string): ReplayResult {
    this.trim();
    const first = this.firstIndexAfter(pos);
    const n = this.count - first;
    if (n > limit) return { kind: "missed", reason: "too-old", headId };
    const events: HeraldEvent[] = new Array(n);
    for (let i = 0; i < n; i++) events[i] = this.at(first + i);
    return { kind: "events", events };
  }

  private at(i: number): HeraldEvent {
    return this.ring[(this.start + i) % this.ring.length] as HeraldEvent;
  }

  private firstIndexAfter(pos: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).pos <= pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private dropOldest(): void {
    const old = this.at(0);
    this.ring[this.start] = undefined;
    this.start = (this.start + 1) % this.ring.length;
    this.count--;
    if (this.byId.get(old.id) === old) this.byId.delete(old.id);
  }
}
