import { concat } from "./bytes.ts";
import type { HeraldEvent } from "./event.ts";
import type { Subscriber } from "./subscriber.ts";
import type { SubscriberIndex } from "./subscriber-index.ts";

/**
 * Default work of one fan-out step, in units: one unit per subscriber looked at for an event (or,
 * on the fast path, per subscriber of a topic in the step), per group of pattern subscribers and
 * per selector check (a Mercure template's match: ~0.1 µs with its DFA). On this 2-core
 * machine a step of 20,000 units takes at most about 20-50 ms, writes included (docs/performance.md).
 */
export const DEFAULT_STEP_WORK = 20_000;

/**
 * Writes a list of events (in bus order) to the subscribers that want them, in steps of bounded
 * work, so that one big batch never holds the event loop: the hub runs one `step()` per event-loop
 * turn and lets I/O run in between.
 *
 * In each step, each subscriber gets its share in ONE write:
 * - fast path: for each exact topic, the step's events of that topic are concatenated once and
 *   the same bytes are written to every `single` live subscriber of the topic (one exact selector,
 *   no private rights, nothing of them written already): no allocation per subscriber;
 * - everyone else (several selectors, patterns, replaying, private events) is found through the
 *   index (`SubscriberIndex`), event by event in order, and collects its events
 *   (`Subscriber.take`); what it collected is written at the end of the step.
 *
 * Guarantees, whatever the step boundaries: per subscriber, events in bus order, each at most once
 * (`Subscriber.lastPos`, which also skips a subscriber reached through two selectors), private
 * rules as for replay. A step stops once its work reaches the budget, possibly in the middle of an
 * event (the rest of its subscribers get it in the next step), and always does at least one unit.
 * Bound: one step does at most `budget` units, plus the single subscribers of the last topic it
 * met (one write each) and the matchers of one anchor.
 */
export class FanOut {
  /** Per event, how many subscribers it was written or queued to (final once `done` passed it). */
  readonly counts: number[];
  /** Events before this index are completely written. */
  done = 0;
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
    return this.steps.next().done === true;
  }

  private *run(): Generator<void, void, undefined> {
    const { index, events, counts, budget } = this;
    let work = 0;
    /** Exact topics met in this step that have single subscribers: the step's events of each. */
    let shared = new Map<string, number[]>();
    let touched: Subscriber[] = [];
    const endStep = (completed: number) => {
      for (const [topic, list] of shared) this.writeShared(topic, list, touched);
      for (const subscriber of touched) subscriber.writeCollected();
      shared = new Map();
      touched = [];
      work = 0;
      this.done = completed;
    };
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as HeraldEvent;
      for (const topic of event.topics) {
        const entry = index.exact.get(topic);
        if (entry !== undefined) {
          if (entry.singles.size > 0) {
            const list = shared.get(topic);
            if (list === undefined) {
              shared.set(topic, [i]);
              work += entry.singles.size;
            } else if (list[list.length - 1] !== i) list.push(i);
          }
          if (entry.others !== undefined) {
            for (const subscriber of entry.others) {
              if (work >= budget) {
                endStep(i);
                yield;
              }
              work++;
              if (subscriber.take(event, touched)) counts[i] = (counts[i] as number) + 1;
            }
          }
        }
        if (!index.hasPatterns) continue;
        let checks = index.checks;
        for (const group of index.patternGroups(topic)) {
          work += 1 + index.checks - checks;
          checks = index.checks;
          for (const subscriber of group) {
            if (work >= budget) {
              endStep(i);
              yield;
            }
            work++;
            if (subscriber.take(event, touched)) counts[i] = (counts[i] as number) + 1;
          }
        }
        work += index.checks - checks;
      }
      if (work >= budget && i + 1 < events.length) {
        endStep(i + 1);
        yield;
      }
    }
    endStep(events.length);
  }

  /** The fast path of one exact topic: `list` holds the indices of the step's events on it. */
  private writeShared(topic: string, list: readonly number[], touched: Subscriber[]): void {
    const entry = this.index.exact.get(topic);
    if (entry === undefined) return;
    const { events, counts } = this;
    const first = (events[list[0] as number] as HeraldEvent).pos;
    const last = (events[list[list.length - 1] as number] as HeraldEvent).pos;
    const anyPrivate = list.some((i) => (events[i] as HeraldEvent).private);
    let bytes: Uint8Array | undefined;
    let sharedCount = 0;
    for (const subscriber of entry.singles) {
      if (!anyPrivate && subscriber.live && subscriber.lastPos < first && !subscriber.closed) {
        bytes ??= concat(list.map((i) => (events[i] as HeraldEvent).bytes));
        subscriber.writeShared(bytes, last);
        sharedCount++;
      } else {
        // replaying, partly written already, or private events among them: one by one, in order
        for (const i of list) {
          if (subscriber.take(events[i] as HeraldEvent, touched)) counts[i] = (counts[i] as number) + 1;
        }
      }
    }
    if (sharedCount > 0) for (const i of list) counts[i] = (counts[i] as number) + sharedCount;
  }
}
