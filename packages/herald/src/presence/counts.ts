/**
 * Who is on a topic, as counts: the core of presence (no I/O, no import). One `TopicCounts` per
 * watched topic of one node: how many streams of each identity (a token's `sub`) are subscribed,
 * and how many without one (anonymous, or a token without `sub`: counted, never listed).
 */
export interface TopicCounts {
  anonymous: number;
  readonly subs: Map<string, number>;
}

/** A node's presence: its watched topics that have at least one subscriber. */
export type NodeCounts = Map<string, TopicCounts>;

/** A change: `delta` streams of `sub` (null: without identity) on `topic`. */
export type Change = readonly [topic: string, sub: string | null, delta: number];

/** The JSON form of a node's counts (what travels between nodes): topic -> [anonymous, {sub: n}]. */
export type WireCounts = Record<string, [number, Record<string, number>]>;

/** Adds `delta` (may be negative) to `sub`'s streams on `topic`; drops what reaches zero. */
export function apply(counts: NodeCounts, [topic, sub, delta]: Change): void {
  let entry = counts.get(topic);
  if (entry === undefined) {
    if (delta <= 0) return;
    entry = { anonymous: 0, subs: new Map() };
    counts.set(topic, entry);
  }
  if (sub === null) entry.anonymous = Math.max(0, entry.anonymous + delta);
  else {
    const n = (entry.subs.get(sub) ?? 0) + delta;
    if (n > 0) entry.subs.set(sub, n);
    else entry.subs.delete(sub);
  }
  if (entry.anonymous === 0 && entry.subs.size === 0) counts.delete(topic);
}

export function toWire(counts: NodeCounts): WireCounts {
  const wire: WireCounts = {};
  for (const [topic, entry] of counts) wire[topic] = [entry.anonymous, Object.fromEntries(entry.subs)];
  return wire;
}

/** Rebuilds counts from the wire; anything malformed is skipped (a peer's message is not trusted to be well formed). */
export function fromWire(wire: WireCounts): NodeCounts {
  const counts: NodeCounts = new Map();
  for (const [topic, value] of Object.entries(wire)) {
    if (!Array.isArray(value)) continue;
    const [anonymous, subs] = value;
    const entry: TopicCounts = { anonymous: Number(anonymous) || 0, subs: new Map() };
    for (const [sub, n] of Object.entries(subs ?? {})) if (Number(n) > 0) entry.subs.set(sub, Number(n));
    counts.set(topic, entry);
  }
  return counts;
}

/** What a topic looks like cluster-wide: the streams counted and the distinct identities. */
export interface TopicView {
  readonly count: number;
  readonly subs: ReadonlySet<string>;
}

/** Sums the counts of `topic` over several nodes. */
export function viewOf(topic: string, nodes: Iterable<NodeCounts>): TopicView {
  let count = 0;
  const subs = new Set<string>();
  for (const node of nodes) {
    const entry = node.get(topic);
    if (entry === undefined) continue;
    count += entry.anonymous;
    for (const [sub, n] of entry.subs) {
      count += n;
      subs.add(sub);
    }
  }
  return { count, subs };
}
