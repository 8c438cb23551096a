/**
 * The sharded log's resume rule (docs/scaling.md) against issue 11's promise: for every subscriber,
 * every acknowledged event of its topics is delivered once and in order (per shard, hence per
 * topic), or a `missed` for that shard covers the gap. Random schedules of publishes, disconnects
 * with resume from the last id received, history evictions and shard restarts that lose the log.
 * The checker is shown to catch a wrong rule (one position for all shards).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { prng } from "../helpers/prng.ts";
import {
  type Cursor,
  type CursorEntry,
  type Delivery,
  formatCursor,
  live,
  parseCursor,
  resume,
  Shard,
  type ShardEvent,
  shardOf,
} from "./sharded-log.ts";

const SHARDS = 3;
const TOPICS = Array.from({ length: 12 }, (_, i) => `topic-${i}`);

type Resume = typeof resume;

interface Run {
  deliveries: Delivery[];
  /** Per shard, the events appended after the subscription began, in append order. */
  appended: ShardEvent[][];
  topics: Set<string>;
  missedWithoutLoss: number;
}

/** One random schedule for one subscriber; `rule` is the resume rule used on every reconnect. */
function simulate(seed: number, capacity: number, rule: Resume, losses: boolean): Run {
  const rng = prng(seed);
  const random = rng.next;
  const pick = rng.pick;
  const shards = Array.from({ length: SHARDS }, (_, i) => new Shard(i, capacity));
  const topics = new Set(Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(TOPICS)));
  const appended: ShardEvent[][] = shards.map(() => []);
  const deliveries: Delivery[] = [];
  let uid = 0;
  let lastId: string | undefined;
  let connected: Map<number, CursorEntry> | undefined;
  let lost = false;
  const connect = () => {
    const from: Cursor | undefined = lastId === undefined ? undefined : parseCursor(lastId);
    const r = rule(shards, topics, from);
    for (const d of r.deliveries) deliveries.push(d);
    // the stream's opening tells the client where it stands (Herald: the Last-Event-ID response
    // header), so a client that gets no event before it drops still resumes from there
    lastId = formatCursor(r.cursor);
    connected = r.cursor;
  };
  connect();
  for (let step = 0; step < 400; step++) {
    const roll = random();
    if (roll < 0.8) {
      // a publish: one or two topics; refused (as a CROSSSLOT) when they live on different shards
      const first = pick(TOPICS);
      const eventTopics = random() < 0.3 ? [first, pick(TOPICS)] : [first];
      const homes = new Set(eventTopics.map((t) => shardOf(t, SHARDS)));
      if (homes.size > 1) continue;
      const shard = shards[shardOf(first, SHARDS)] as Shard;
      const event = shard.append(eventTopics, uid++);
      (appended[shard.index] as ShardEvent[]).push(event);
      if (connected !== undefined) {
        const d = live(connected, shard, event, topics);
        if (d !== undefined) {
          deliveries.push(d);
          lastId = d.id;
        }
      }
    } else if (roll < 0.9) {
      if (connected === undefined) connect();
      else connected = undefined; // disconnect; the client keeps lastId
    } else if (roll < 0.93 && losses) {
      const shard = pick(shards);
      shard.lose();
      lost = true;
      // a connected subscriber reading that shard is told at once (the bus's epoch changed)
      if (connected?.has(shard.index)) {
        connected.set(shard.index, { epoch: shard.epoch, pos: 0 });
        lastId = formatCursor(connected);
        deliveries.push({ kind: "missed", shard: shard.index, id: lastId });
      }
    }
  }
  if (connected === undefined) connect(); // the end: catch up with what history holds
  const missed = deliveries.filter((d) => d.kind === "missed").length;
  return { deliveries, appended, topics, missedWithoutLoss: lost ? 0 : missed };
}

/** Issue 11's checker, per shard: once, in order, or a `missed` before the gap. Throws on a breach. */
function check(run: Run): void {
  for (let s = 0; s < SHARDS; s++) {
    const expected = (run.appended[s] as ShardEvent[]).filter((e) => e.topics.some((t) => run.topics.has(t)));
    const index = new Map(expected.map((e, i) => [e.uid, i]));
    let next = 0;
    let covered = false;
    for (const d of run.deliveries) {
      if (d.kind === "missed") {
        if (d.shard === s) covered = true;
        continue;
      }
      if (d.event.shard !== s) continue;
      const i = index.get(d.event.uid);
      assert.ok(i !== undefined, `shard ${s}: delivered an event the subscription does not match`);
      assert.ok(i >= next, `shard ${s}: event ${d.event.uid} delivered twice or out of order`);
      if (i > next) assert.ok(covered, `shard ${s}: events ${next}..${i - 1} skipped with no missed`);
      next = i + 1;
      covered = false;
    }
    if (next < expected.length)
      assert.ok(covered, `shard ${s}: the last ${expected.length - next} never delivered`);
  }
}

/** A wrong rule: one position for all shards (the cursor's largest), as if the shards were one log. */
const onePosition: Resume = (shards, topics, from) => {
  const max = Math.max(0, ...[...(from?.values() ?? [])].map((e) => e.pos));
  const flattened =
    from === undefined ? undefined : new Map([...from.entries()].map(([s, e]) => [s, { ...e, pos: max }]));
  return resume(shards, topics, flattened);
};

describe("the sharded log's resume rule (docs/scaling.md), simulated", () => {
  test("keeps the promise over 300 random schedules with evictions and lost shards", () => {
    for (let seed = 1; seed <= 300; seed++) check(simulate(seed, 8 + (seed % 40), resume, true));
  });

  test("sends no missed when no history is evicted and no shard is lost", () => {
    for (let seed = 1; seed <= 100; seed++) {
      const run = simulate(seed, 100_000, resume, false);
      check(run);
      assert.equal(run.missedWithoutLoss, 0, `seed ${seed}`);
    }
  });

  test("the checker catches a wrong rule: one position for all shards loses events silently", () => {
    let caught = 0;
    for (let seed = 1; seed <= 100; seed++) {
      try {
        check(simulate(seed, 100_000, onePosition, false));
      } catch {
        caught++;
      }
    }
    assert.ok(caught >= 10, `the wrong rule was caught in ${caught} of 100 schedules`);
  });

  test("a client that removed the topic of one shard resumes exactly on the others from its cursor", () => {
    // docs/scaling.md "Ids and Last-Event-ID": a multi-shard cursor has an entry per shard it read,
    // so the last id a client got (an event of the shard it then dropped) still places it on the rest
    const shards = Array.from({ length: SHARDS }, (_, i) => new Shard(i, 1000));
    const kept = TOPICS.find((t) => shardOf(t, SHARDS) === 0) as string;
    const removed = TOPICS.find((t) => shardOf(t, SHARDS) === 1) as string;
    const first = resume(shards, new Set([kept, removed]), undefined);
    const cursor = first.cursor;
    for (const [topic, uid] of [
      [kept, 1],
      [removed, 2],
    ] as const) {
      const shard = shards[shardOf(topic, SHARDS)] as Shard;
      const event = shard.append([topic], uid);
      live(cursor, shard, event, new Set([kept, removed]));
    }
    const lastId = formatCursor(cursor); // the removed topic's event was the last one received
    const away = (shards[0] as Shard).append([kept], 3);
    (shards[1] as Shard).append([removed], 4);
    const again = resume(shards, new Set([kept]), parseCursor(lastId));
    assert.deepEqual(
      again.deliveries.map((d) => (d.kind === "event" ? d.event.uid : "missed")),
      [away.uid],
    );
  });

  test("ids round-trip, and a topic's shard is stable", () => {
    const cursor = new Map([
      [2, { epoch: 3, pos: 40 }],
      [0, { epoch: 1, pos: 7 }],
    ]);
    const text = `v1.0:1-7.2:3-40`;
    assert.equal(parseCursor(text)?.get(2)?.pos, 40);
    assert.deepEqual(parseCursor(text), new Map([...cursor.entries()].sort(([a], [b]) => a - b)));
    assert.equal(parseCursor("3f9c1a2b7e-12"), undefined);
    assert.equal(shardOf("prices", 3), shardOf("prices", 3));
  });
});
