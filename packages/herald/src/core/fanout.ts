import { concat } from "./bytes.ts";
import type { HeraldEvent } from "./event.ts";
import type { Subscriber } from "./subscriber.ts";
import type { SubscriberIndex } from "./subscriber-index.ts";

/**
 * Default work of one fan-out step, in units. A unit is about what one subscriber check costs
 * (~0.05-0.1 µs): one per subscriber looked at for one event, per group of pattern subscribers and
 * per selector check (a Mercure template's match, with its DFA; a matcher that declares a `cost`,
 * such as a Mercure URL pattern, counts that many); a write costs `WRITE_WORK` units
 * plus one per `BYTES_PER_UNIT` bytes. 100,000 units is about 10 ms of CPU on this 2-core machine
 * (docs/performance.md).
 */
export const DEFAULT_STEP_WORK = 100_000;
/** Units of work of one write besides its bytes: a write to a socket costs ~100-200 subscriber checks (~10 µs). */
export const WRITE_WORK = 128;
/** Bytes written per unit of work. */
export const BYTES_PER_UNIT = 256;

/**
 * Writes a list of events (in bus order) to the subscribers that want them, in steps of bounded
 * work, so that one big batch never holds the event loop: the hub runs one `step()` per event-loop
 * turn and lets I/O run in between.
 *
 * Each subscriber gets its share of what a step covers in ONE write:
 * - fast path: for each exact topic, the step's events of that topic are concatenated once and
 *   the same bytes are written to every `single` live subscriber of the topic (one exact selector,
 *   no private rights, nothing of them written already): no allocation per subscriber;
 * - everyone else (several selectors, patterns, replaying, private events) is found through the
 *   index (`SubscriberIndex`), event by event in order, and collects its events
 *   (`Subscriber.take`); what it collected is written at the end of the step.
 *
 * A step first goes through events (finding and collecting) until its work reaches half the
 * budget, possibly in the middle of an event; then writes what was collected, which may itself take
 * several steps (a write is never split: the subscribers not written yet are written first in the
 * next step, before any further event is looked at).
 *
 * Guarantees, whatever the step boundaries: per subscriber, events in bus order, each at most once
 * (`Subscriber.lastPos`, which also skips a subscriber reached through two selectors), private
 * rules as for replay; `done` passes an event only once every write of it is done.
 * Bound: one step does at most `budget` units of work, plus one unit of work that cannot be split:
 * one subscriber's write, or `CHECK_SLICE` units of selector checks (each counted at its matcher's
 * declared `cost`: a Mercure URL pattern check is ~200 units) plus one check.
 */
export class FanOut {
  /** Per event, how many subscribers it was written or queued to (final once `done` passed it). */
  readonly counts: number[];
  /** Events before this index are completely written. */
  done = 0;
  /** Work done in the current step. */
  private work = 0;
  private readonly steps: Generator<void, void, undefined>;

  constructor(
    private readonly index: SubscriberIndex,
    readonly events: readonly HeraldEvent[],
    private readonly budget: number = DEFAULT_STEP_WORK,
  ) {
    this.counts = new Array<number>(events.length).fill(0);
    this.steps = this.run();
  }

  /** Runs one step; true once every event is written. */
  step(): boolean {
    this.work = 0;
    return this.steps.next().done === true;
  }

  private *run(): Generator<void, void, undefined> {
    const { index, events, counts, budget } = this;
    /** Looking stops at half the budget: the rest is for writing what was found. */
    const look = budget / 2;
    /** Exact topics met in this step that have single subscribers: the step's events of each. */
    let shared = new Map<string, number[]>();
    let touched: Subscriber[] = [];
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as HeraldEvent;
      for (const topic of event.topics) {
        const entry = index.exact.get(topic);
        if (entry !== undefined) {
          if (entry.singles.size > 0) {
            const list = shared.get(topic);
            if (list === undefined) shared.set(topic, [i]);
            else if (list[list.length - 1] !== i) list.push(i);
          }
          if (entry.others !== undefined) {
            for (const subscriber of entry.others) {
              if (this.work >= look) {
                yield* this.write(shared, touched, i);
                shared = new Map();
                touched = [];
                if (this.work >= budget) yield;
              }
              this.work++;
              if (subscriber.take(event, touched)) counts[i] = (counts[i] as number) + 1;
            }
          }
        }
        if (!index.hasPatterns) continue;
        let checks = index.checks;
        for (const group of index.patternGroups(topic)) {
          this.work += 1 + index.checks - checks;
          checks = index.checks;
          if (group.size === 0 && this.work >= look) {
            // many checks that matched nothing: the step may end among one anchor's matchers
            yield* this.write(shared, touched, i);
            shared = new Map();
            touched = [];
            if (this.work >= budget) yield;
          }
          for (const subscriber of group) {
            if (this.work >= look) {
              yield* this.write(shared, touched, i);
              shared = new Map();
              touched = [];
              if (this.work >= budget) yield;
            }
            this.work++;
            if (subscriber.take(event, touched)) counts[i] = (counts[i] as number) + 1;
          }
        }
        this.work += index.checks - checks;
      }
      if (this.work >= look && i + 1 < events.length) {
        yield* this.write(shared, touched, i + 1);
        shared = new Map();
        touched = [];
        if (this.work >= budget) yield;
      }
    }
    yield* this.write(shared, touched, events.length);
  }

  /**
   * Writes what the events looked at so far collected: the fast path of each exact topic in
   * `shared`, then every subscriber in `touched`; yields (ends the step) whenever the budget is
   * reached. Then the events before `completed` are done.
   */
  private *write(
    shared: ReadonlyMap<string, readonly number[]>,
    touched: Subscriber[],
    completed: number,
  ): Generator<void, void, undefined> {
    for (const [topic, list] of shared) {
      const entry = this.index.exact.get(topic);
      if (entry === undefined) continue;
      const batch = new SharedBatch(this.events, list);
      const singles = entry.singles.values();
      while (!this.writeSingles(singles, batch, touched)) yield;
      if (batch.sharedCount > 0) {
        for (const i of list) this.counts[i] = (this.counts[i] as number) + batch.sharedCount;
      }
    }
    let at = 0;
    while (at < touched.length) {
      if (this.work >= this.budget) yield;
      const end = at;
      at = this.writeTouched(touched, end);
    }
    this.done = completed;
  }

  /**
   * The fast path for one topic's single subscribers, until the budget is reached (a plain loop,
   * not in the generator: this is the hot path at saturation). True once they are all done.
   */
  private writeSingles(singles: Iterator<Subscriber>, batch: SharedBatch, touched: Subscriber[]): boolean {
    const { events, counts, budget } = this;
    let work = this.work;
    try {
      while (work < budget) {
        const next = singles.next();
        if (next.done === true) return true;
        const subscriber = next.value;
        if (batch.open && subscriber.live && subscriber.lastPos < batch.first && !subscriber.closed) {
          subscriber.writeShared(batch.bytes, batch.last);
          batch.sharedCount++;
          work += batch.cost;
        } else {
          // replaying, partly written already, or private events among them: one by one, in order
          for (const i of batch.list) {
            work++;
            if (subscriber.take(events[i] as HeraldEvent, touched)) counts[i] = (counts[i] as number) + 1;
          }
        }
      }
      return false;
    } finally {
      this.work = work;
    }
  }

  /** Writes `touched` from `from` on until the budget is reached; answers where it stopped. */
  private writeTouched(touched: readonly Subscriber[], from: number): number {
    let work = this.work;
    let at = from;
    while (at < touched.length && (at === from || work < this.budget)) {
      work += WRITE_WORK + (touched[at] as Subscriber).writeCollected() / BYTES_PER_UNIT;
      at++;
    }
    this.work = work;
    return at;
  }
}

/** The step's events of one exact topic, for its single subscribers: bytes built once, on first use. */
class SharedBatch {
  readonly first: number;
  readonly last: number;
  /** False when a private event is among them: then each subscriber takes them one by one. */
  readonly open: boolean;
  sharedCount = 0;
  private built: Uint8Array | undefined;
  private builtCost = 0;

  constructor(
    private readonly events: readonly HeraldEvent[],
    readonly list: readonly number[],
  ) {
    this.first = (events[list[0] as number] as HeraldEvent).pos;
    this.last = (events[list[list.length - 1] as number] as HeraldEvent).pos;
    this.open = !list.some((i) => (events[i] as HeraldEvent).private);
  }

  get bytes(): Uint8Array {
    if (this.built === undefined) {
      this.built = concat(this.list.map((i) => (this.events[i] as HeraldEvent).bytes));
      this.builtCost = WRITE_WORK + this.built.length / BYTES_PER_UNIT;
    }
    return this.built;
  }

  /** Work of one write of `bytes`. */
  get cost(): number {
    return this.builtCost;
  }
}
