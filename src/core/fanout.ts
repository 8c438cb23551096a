import type { HeraldEvent } from "./event.ts";
import type { Subscriber } from "./subscriber.ts";

/** The hub's subscriber index: exact topics through a map, pattern subscribers in a set. */
export interface SubscriberIndex {
  readonly exact: ReadonlyMap<string, ReadonlySet<Subscriber>>;
  readonly patterns: ReadonlySet<Subscriber>;
}

/**
 * Writes one event to every subscriber that wants it; answers how many it was written or queued to.
 * Cost: the event's topics' map entries, plus one check per pattern subscriber.
 */
export function fanOutOne(index: SubscriberIndex, event: HeraldEvent): number {
  let queued = 0;
  for (const topic of event.topics) {
    const set = index.exact.get(topic);
    if (set === undefined) continue;
    for (const subscriber of set) if (subscriber.offer(event)) queued++;
  }
  for (const subscriber of index.patterns) {
    if (subscriber.accepts(event) && subscriber.offer(event)) queued++;
  }
  return queued;
}

/**
 * Writes several events (in bus order) so that each subscriber gets its share in ONE write.
 * Answers, per event, how many subscribers it was written or queued to.
 *
 * Fast path: for each exact topic, the events of that topic are concatenated once and the same
 * bytes are written to every `single` live subscriber of the topic (one exact selector, no private
 * rights, nothing of the batch already written): no allocation per subscriber. Everyone else
 * (several selectors, patterns, replaying, private events, or a replay that already covered part of
 * the batch) takes the general path: each event is checked in order (`Subscriber.collect`), so order,
 * at-most-once (`lastPos`) and private rules are the same as for `fanOutOne`.
 */
export function fanOutBatch(index: SubscriberIndex, events: readonly HeraldEvent[]): number[] {
  const counts = new Array<number>(events.length).fill(0);
  const byTopic = new Map<string, number[]>();
  for (let i = 0; i < events.length; i++) {
    for (const topic of (events[i] as HeraldEvent).topics) {
      if (!index.exact.has(topic)) continue;
      const list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, [i]);
      else if (list[list.length - 1] !== i) list.push(i);
    }
  }
  const general = new Set<Subscriber>();
  for (const [topic, list] of byTopic) {
    const set = index.exact.get(topic) as ReadonlySet<Subscriber>;
    const first = (events[list[0] as number] as HeraldEvent).pos;
    const last = (events[list[list.length - 1] as number] as HeraldEvent).pos;
    const anyPrivate = list.some((i) => (events[i] as HeraldEvent).private);
    let shared: Uint8Array | undefined;
    let sharedCount = 0;
    for (const subscriber of set) {
      if (
        subscriber.single &&
        !anyPrivate &&
        subscriber.live &&
        subscriber.lastPos < first &&
        !subscriber.closed
      ) {
        shared ??= concat(list.map((i) => (events[i] as HeraldEvent).bytes));
        subscriber.writeShared(shared, last);
        sharedCount++;
      } else {
        general.add(subscriber);
      }
    }
    if (sharedCount > 0) for (const i of list) counts[i] = (counts[i] as number) + sharedCount;
  }
  for (const subscriber of index.patterns) general.add(subscriber);
  const out: Uint8Array[] = [];
  for (const subscriber of general) {
    for (let i = 0; i < events.length; i++) {
      if (subscriber.collect(events[i] as HeraldEvent, out)) counts[i] = (counts[i] as number) + 1;
    }
    if (out.length === 1) subscriber.sink.write(out[0] as Uint8Array);
    else if (out.length > 1) subscriber.sink.write(concat(out));
    out.length = 0;
  }
  return counts;
}

/** The bytes of `parts` one after the other (no copy when there is one part). */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
