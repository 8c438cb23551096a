import { type History, type SentEvent, type SubscriberLog, selectorMatches } from "./checker.ts";

/** The publisher name of the run's closing fence events (publishers.ts). */
export const FENCE = "fence";

/**
 * The run's closing fence (run.ts): one public event per topic, published one after the other on
 * one node, each once the one before was answered, so an acknowledged fence comes later in the log
 * than everything acknowledged before it. A subscriber is settled once it got the last acknowledged
 * fence on its topics: delivery being in log order, nothing acknowledged before that fence can
 * still arrive. An earlier fence is not enough: the later ones are acknowledged events too, still
 * on their way (a node behind the publishing one delivers them a moment later). With no
 * acknowledged fence on its topics, any fence it got settles it. No I/O: run.ts polls `settled`.
 */
export class FenceWatch {
  /** Per subscriber: how far its events were scanned, and the fences (event indexes) among them. */
  private readonly seen = new Map<SubscriberLog, { scanned: number; fences: Set<number> }>();

  /** The acknowledged fences, in send order. */
  private readonly acked: readonly SentEvent[];

  /** Made once every fence publish was answered (the acknowledged fences are read here). */
  constructor(private readonly history: History) {
    this.acked = history.events.filter((e) => e.publisher === FENCE && e.ack !== undefined);
  }

  /** The last acknowledged fence on `sub`'s topics (fences are public), by send order. */
  lastFence(sub: SubscriberLog): SentEvent | undefined {
    return this.acked.findLast((e) => e.topics.some((t) => sub.selectors.some((s) => selectorMatches(s, t))));
  }

  /** Whether `sub` got its last fence (see the class comment). */
  settled(sub: SubscriberLog): boolean {
    const fences = this.fences(sub);
    const last = this.lastFence(sub);
    return last === undefined ? fences.size > 0 : fences.has(last.index);
  }

  /** Whether `sub` got any fence at all. */
  anyFence(sub: SubscriberLog): boolean {
    return this.fences(sub).size > 0;
  }

  private fences(sub: SubscriberLog): Set<number> {
    let entry = this.seen.get(sub);
    if (entry === undefined) {
      entry = { scanned: 0, fences: new Set() };
      this.seen.set(sub, entry);
    }
    for (; entry.scanned < sub.events.length; entry.scanned++) {
      const index = sub.events[entry.scanned]!;
      if (index >= 0 && this.history.events[index]!.publisher === FENCE) entry.fences.add(index);
    }
    return entry.fences;
  }
}
