/**
 * A model of the sharded log designed in docs/scaling.md (not built into Herald): S shards, each
 * an ordered log with its own epoch and positions and a bounded history; a topic lives on one
 * shard (`shardOf`); an event's topics all live on one shard (else the publish is refused, as
 * Redis Cluster refuses a multi-key command across slots). A subscription reads the shards of its
 * topics; the id it gets with each event is its cursor: one `epoch-position` per shard it reads.
 *
 * `resume` is the rule under test: per shard of the subscription, the events after that shard's
 * entry of the cursor, or a `missed` for that shard alone when its entry cannot be honoured
 * (another epoch, or evicted from its history). The simulation in sharded-log.test.ts runs it
 * against the checker of issue 11 with random publishes, disconnects, evictions and shard restarts.
 * No I/O; deterministic for a given PRNG.
 */

export interface ShardEvent {
  readonly shard: number;
  readonly pos: number;
  readonly topics: readonly string[];
  /** Unique over the whole run: what the checker tracks. */
  readonly uid: number;
}

export class Shard {
  epoch = 1;
  /** Last position handed out (positions start at 1 in each epoch). */
  head = 0;
  /** Held events, oldest first (bounded by `capacity`). */
  history: ShardEvent[] = [];

  constructor(
    readonly index: number,
    private readonly capacity: number,
  ) {}

  append(topics: readonly string[], uid: number): ShardEvent {
    const event = { shard: this.index, pos: ++this.head, topics, uid };
    this.history.push(event);
    if (this.history.length > this.capacity) this.history.shift();
    return event;
  }

  /** A restart that lost the log: a new epoch, positions from 1 again, nothing held. */
  lose(): void {
    this.epoch++;
    this.head = 0;
    this.history = [];
  }
}

/** Where a subscription stands on one shard. */
export interface CursorEntry {
  readonly epoch: number;
  readonly pos: number;
}

/** The id a subscriber gets: one entry per shard it reads, keyed by shard index. */
export type Cursor = ReadonlyMap<number, CursorEntry>;

/** `v1.<shard>:<epoch>-<pos>.<shard>:<epoch>-<pos>...` in shard order: the SSE `id:` of a multi-shard stream. */
export function formatCursor(cursor: Cursor): string {
  const parts = [...cursor.entries()].sort(([a], [b]) => a - b).map(([s, e]) => `${s}:${e.epoch}-${e.pos}`);
  return `v1.${parts.join(".")}`;
}

export function parseCursor(text: string): Cursor | undefined {
  if (!text.startsWith("v1.")) return undefined;
  const out = new Map<number, CursorEntry>();
  for (const part of text.slice(3).split(".")) {
    const m = /^(\d+):(\d+)-(\d+)$/.exec(part);
    if (m === null) return undefined;
    out.set(Number(m[1]), { epoch: Number(m[2]), pos: Number(m[3]) });
  }
  return out;
}

export type Delivery =
  | { readonly kind: "event"; readonly event: ShardEvent; readonly id: string }
  | { readonly kind: "missed"; readonly shard: number; readonly id: string };

/** The shard of a topic: a stable hash of the topic's shard key (here: its text) over S shards. */
export function shardOf(topic: string, shards: number): number {
  let h = 2166136261;
  for (let i = 0; i < topic.length; i++) h = Math.imul(h ^ topic.charCodeAt(i), 16777619) >>> 0;
  return h % shards;
}

/**
 * The resume rule. For each shard the topics read, in shard order (any interleaving that keeps each
 * shard's order is valid; the live tail interleaves them by arrival):
 * - no entry for the shard (a new subscription, or a topic added on a new shard): start at its head;
 * - an entry of the shard's current epoch whose position is still held (or is the head): the
 *   events after it that match the topics;
 * - otherwise (another epoch, or evicted): one `missed` for that shard, then from its head.
 * Each delivery carries the cursor after it, so a resume from any delivery's id loses nothing.
 */
export function resume(
  shards: readonly Shard[],
  topics: ReadonlySet<string>,
  from: Cursor | undefined,
): {
  deliveries: Delivery[];
  cursor: Map<number, CursorEntry>;
} {
  const read = [...new Set([...topics].map((t) => shardOf(t, shards.length)))].sort((a, b) => a - b);
  const cursor = new Map<number, CursorEntry>();
  const deliveries: Delivery[] = [];
  for (const s of read) {
    const shard = shards[s] as Shard;
    const entry = from?.get(s);
    if (entry === undefined) {
      cursor.set(s, { epoch: shard.epoch, pos: shard.head });
      continue;
    }
    const oldest = shard.history[0]?.pos ?? shard.head + 1;
    const honoured = entry.epoch === shard.epoch && entry.pos <= shard.head && entry.pos >= oldest - 1;
    if (!honoured) {
      cursor.set(s, { epoch: shard.epoch, pos: shard.head });
      deliveries.push({ kind: "missed", shard: s, id: formatCursor(cursor) });
      continue;
    }
    cursor.set(s, entry);
    for (const event of shard.history) {
      if (event.pos <= entry.pos) continue;
      cursor.set(s, { epoch: shard.epoch, pos: event.pos });
      if (event.topics.some((t) => topics.has(t)))
        deliveries.push({ kind: "event", event, id: formatCursor(cursor) });
    }
  }
  return { deliveries, cursor };
}

/** A live event on shard `event.shard`: advances the cursor; delivered when a topic matches. */
export function live(
  cursor: Map<number, CursorEntry>,
  shard: Shard,
  event: ShardEvent,
  topics: ReadonlySet<string>,
): Delivery | undefined {
  if (!cursor.has(shard.index)) return undefined; // a shard this subscription does not read
  cursor.set(shard.index, { epoch: shard.epoch, pos: event.pos });
  return event.topics.some((t) => topics.has(t))
    ? { kind: "event", event, id: formatCursor(cursor) }
    : undefined;
}
