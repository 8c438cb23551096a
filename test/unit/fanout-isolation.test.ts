import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryBus } from "../../packages/herald/src/buses/memory.ts";
import { Hub } from "../../packages/herald/src/core/hub.ts";
import type { CloseReason, Sink } from "../../packages/herald/src/core/subscriber.ts";
import { parseSelector, type TopicSelector } from "../../packages/herald/src/core/topic.ts";

/**
 * Issue 11, "pattern subscribers and batches": one client's selectors must not make fan-out cost
 * grow with every pattern subscriber, and a big batch must not hold the event loop: the hub writes
 * it in bounded steps and yields between them, keeping order, exactly-once and "a publish is
 * answered once its events are written".
 */

/** A sink that keeps the ids it was written, in order. */
class IdSink implements Sink {
  ids: string[] = [];
  writes = 0;
  ended: CloseReason | undefined;
  constructor(private readonly onWrite?: () => void) {}
  write(bytes: Uint8Array): boolean {
    this.writes++;
    for (const m of new TextDecoder().decode(bytes).matchAll(/^id: (.*)$/gm)) this.ids.push(m[1] as string);
    this.onWrite?.();
    return true;
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
  end(reason: CloseReason): void {
    this.ended = reason;
  }
}

/** A hub whose deferred work runs only when the test says so (one call = one event-loop turn). */
function manualHub() {
  const bus = new MemoryBus({ history: { maxEvents: 100_000, maxAgeMs: 0 } });
  const turns: (() => void)[] = [];
  const hub = new Hub({ bus, replayLimit: 1000, maxPendingBytes: 1 << 30, defer: (f) => turns.push(f) });
  /** Runs the work scheduled so far (what one setImmediate turn would); false when there was none. */
  const turn = () => {
    const due = turns.splice(0);
    for (const f of due) f();
    return due.length > 0;
  };
  return { hub, turn };
}

/** A prefix selector that counts how often the hub reads its prefix (a check against a topic). */
function countedPrefix(prefix: string, counter: { reads: number }): TopicSelector {
  return {
    kind: "prefix",
    get prefix() {
      counter.reads++;
      return prefix;
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("fan-out isolation", () => {
  it("does not check pattern subscribers whose prefixes the event's topics do not start with", async () => {
    const { hub, turn } = manualHub();
    await hub.start();
    const counter = { reads: 0 };
    // 2,000 streams with 32 prefix selectors each, none of which the published topics start with
    for (let s = 0; s < 2000; s++) {
      const selectors = Array.from({ length: 32 }, (_, k) => countedPrefix(`hostile/${s}/${k}/`, counter));
      await hub.subscribe({ selectors, sink: new IdSink() });
    }
    const news = new IdSink();
    await hub.subscribe({ selectors: [parseSelector("news/*")], sink: news });
    counter.reads = 0;
    const events = Array.from({ length: 200 }, (_, i) => ({ topics: [`news/${i}`], data: String(i) }));
    const publishing = hub.publish(events);
    while (turn()) await settle();
    const results = await publishing;
    assert.deepEqual(
      news.ids,
      results.map((r) => r.id),
    );
    // checking every pattern subscriber costs 2,000 x 32 x 200 = 12,800,000 prefix checks
    assert.ok(counter.reads < 1000, `${counter.reads} prefix checks for 200 events`);
  });

  it("runs a shared matcher once per topic for all its subscribers, and only when the topic starts with its literal", async () => {
    const { hub, turn } = manualHub();
    await hub.start();
    let calls = 0;
    const books: TopicSelector = {
      kind: "match",
      source: "https://example.com/books/{id}",
      literal: "https://example.com/books/",
      test: (topic) => {
        calls++;
        return /^https:\/\/example\.com\/books\/[^/]*$/.test(topic);
      },
    };
    const sinks = Array.from({ length: 1000 }, () => new IdSink());
    for (const sink of sinks) await hub.subscribe({ selectors: [books], sink });
    calls = 0;
    const other = hub.publish([{ topics: ["https://example.com/movies/1"], data: "m" }]);
    while (turn()) await settle();
    await other;
    assert.equal(calls, 0, "a topic outside the literal prefix runs no matcher");
    const [book] = await Promise.all([
      hub.publish([{ topics: ["https://example.com/books/1"], data: "b" }]),
      (async () => {
        await settle();
        while (turn()) await settle();
      })(),
    ]);
    assert.equal(calls, 1, "one evaluation for 1,000 subscribers of one matcher");
    assert.equal(book[0]?.queued, 1000);
    for (const sink of sinks) assert.deepEqual(sink.ids, [book[0]?.id]);
  });

  it("writes a big batch in bounded steps, yielding between them, in order, once each, answering after the last write", async () => {
    const { hub, turn } = manualHub();
    await hub.start();
    const sinks = Array.from({ length: 300 }, () => new IdSink());
    for (const [i, sink] of sinks.entries()) {
      // pattern, several-topic and single-topic subscribers all take part
      const selectors =
        i % 3 === 0
          ? ["load/*"]
          : i % 3 === 1
            ? ["load/a", "load/b", "other"]
            : [`load/${i % 2 ? "a" : "b"}`];
      await hub.subscribe({ selectors: selectors.map(parseSelector), sink });
    }
    const events = Array.from({ length: 1000 }, (_, i) => ({
      topics: [i % 2 ? "load/a" : "load/b"],
      data: `${i}`,
    }));
    let answered = false;
    const publishing = hub.publish(events).then((r) => {
      answered = true;
      return r;
    });
    await settle();
    assert.ok(turn(), "the batch's write was scheduled");
    await settle();
    const written = sinks.reduce((n, s) => n + s.ids.length, 0);
    assert.ok(written > 0, "the first step wrote something");
    assert.equal(answered, false, "the publish is not answered before all its events are written");
    assert.ok(written < 300 * 1000 * 0.75, `the first step wrote ${written} of the batch's deliveries`);

    // a publish and a new live subscriber between two steps
    const late = new IdSink();
    await hub.subscribe({ selectors: [parseSelector("load/*")], sink: late });
    const after = hub.publish([{ topics: ["load/a"], data: "after" }]);
    let turns = 1;
    while (turn()) {
      turns++;
      await settle();
    }
    assert.ok(turns > 2, `the batch took ${turns} turns`);
    const results = await publishing;
    const [afterResult] = await after;
    const ids = results.map((r) => r.id);
    for (const [i, sink] of sinks.entries()) {
      const want = i % 3 === 2 ? ids.filter((_, k) => (k % 2 === 1) === (i % 2 === 1)) : ids;
      const wantAll = i % 3 === 2 && i % 2 === 0 ? want : [...want, afterResult?.id];
      assert.deepEqual(sink.ids, wantAll, `subscriber ${i}`);
    }
    assert.deepEqual(
      late.ids,
      [afterResult?.id],
      "a subscriber that joined mid-batch gets only what came after",
    );
    assert.deepEqual(
      results.map((r) => r.queued),
      events.map(() => 250),
    );
  });
});
