import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryBus } from "../../packages/herald/src/buses/memory.ts";
import { HeraldError } from "../../packages/herald/src/core/errors.ts";
import { Hub, MISSED_EVENT_TYPE } from "../../packages/herald/src/core/hub.ts";
import type { CloseReason, Sink } from "../../packages/herald/src/core/subscriber.ts";
import { parseSelector } from "../../packages/herald/src/core/topic.ts";

/** A sink that keeps what it was given, decoded. */
class MemorySink implements Sink {
  text = "";
  ended: CloseReason | undefined;
  write(bytes: Uint8Array): boolean {
    this.text += new TextDecoder().decode(bytes);
    return true;
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
  end(reason: CloseReason): void {
    this.ended = reason;
  }
  datas(): string[] {
    return [...this.text.matchAll(/^data: (.*)$/gm)].map((m) => m[1] as string);
  }
}

async function newHub(maxEvents = 100) {
  const hub = new Hub({
    bus: new MemoryBus({ epoch: "ep", history: { maxEvents, maxAgeMs: 0 } }),
    replayLimit: 1000,
    maxPendingBytes: 1 << 20,
  });
  await hub.start();
  return hub;
}

const sel = (...topics: string[]) => topics.map(parseSelector);

describe("hub", () => {
  it("delivers to subscribers of any of the event's topics, once each", async () => {
    const hub = await newHub();
    const ab = new MemorySink();
    const b = new MemorySink();
    const c = new MemorySink();
    const all = new MemorySink();
    await hub.subscribe({ selectors: sel("a", "b"), sink: ab });
    await hub.subscribe({ selectors: sel("b"), sink: b });
    await hub.subscribe({ selectors: sel("c"), sink: c });
    await hub.subscribe({ selectors: sel("*", "a"), sink: all });
    const [result] = await hub.publish([{ topics: ["a", "b"], data: "x" }]);
    assert.equal(result?.queued, 3);
    assert.deepEqual(ab.datas(), ["x"]);
    assert.deepEqual(b.datas(), ["x"]);
    assert.deepEqual(c.datas(), []);
    assert.deepEqual(all.datas(), ["x"]);
  });

  it("never delivers a private event to a subscriber without rights", async () => {
    const hub = await newHub();
    const anon = new MemorySink();
    const allowed = new MemorySink();
    await hub.subscribe({ selectors: sel("p"), sink: anon });
    await hub.subscribe({ selectors: sel("p"), privateSelectors: sel("p"), sink: allowed });
    await hub.publish([{ topics: ["p"], data: "secret", private: true }]);
    assert.deepEqual(anon.datas(), []);
    assert.deepEqual(allowed.datas(), ["secret"]);
    const replay = new MemorySink();
    await hub.subscribe({ selectors: sel("p"), sink: replay, lastEventId: "ep-0" });
    assert.deepEqual(replay.datas(), []);
  });

  it("replays after Last-Event-ID with no gap and no duplicate while publishing continues", async () => {
    const hub = await newHub();
    for (let i = 1; i <= 5; i++) await hub.publish([{ topics: ["t"], data: String(i) }]);
    const sink = new MemorySink();
    const subscribing = hub.subscribe({ selectors: sel("t"), sink, lastEventId: "ep-2" });
    // Published while the replay is in progress: must arrive once, after the replayed ones.
    const publishing = hub.publish([{ topics: ["t"], data: "6" }]);
    await Promise.all([subscribing, publishing]);
    await hub.publish([{ topics: ["t"], data: "7" }]);
    assert.deepEqual(sink.datas(), ["3", "4", "5", "6", "7"]);
  });

  it("sends the herald.missed event for an unknown id, then the live stream", async () => {
    const hub = await newHub();
    await hub.publish([{ topics: ["t"], data: "1" }]);
    const sink = new MemorySink();
    await hub.subscribe({ selectors: sel("t"), sink, lastEventId: "nope" });
    await hub.publish([{ topics: ["t"], data: "2" }]);
    assert.match(
      sink.text,
      new RegExp(`id: ep-1\nevent: ${MISSED_EVENT_TYPE.replace(".", "\\.")}\ndata: .*"unknown-id"`),
    );
    assert.deepEqual(sink.datas().slice(1), ["2"]);
    assert.equal(hub.counters.missedSignals, 1);
  });

  it("leaves no index entry after unsubscribe", async () => {
    const hub = await newHub();
    const subs = [];
    for (let i = 0; i < 100; i++) {
      subs.push(await hub.subscribe({ selectors: sel(`t${i % 7}`, "x/*"), sink: new MemorySink() }));
    }
    assert.equal(hub.subscriberCount, 100);
    for (const s of subs) hub.unsubscribe(s, "client-closed");
    assert.equal(hub.subscriberCount, 0);
    assert.equal(hub.indexSize, 0);
  });

  it("refuses invalid publishes before storing anything", async () => {
    const hub = await newHub();
    for (const bad of [
      { topics: [], data: "x" },
      { topics: ["t"], data: "x", id: "a\nb" },
      { topics: ["t"], data: "x", type: "a\rb" },
      { topics: ["t"], data: "x", id: "a\0b" },
      { topics: [""], data: "x" },
      { topics: ["t"], data: "x", retry: -1 },
    ]) {
      await assert.rejects(
        hub.publish([bad]),
        (e: unknown) => e instanceof HeraldError && e.code === "bad_request",
      );
    }
    assert.equal(hub.counters.published, 0);
  });
});
