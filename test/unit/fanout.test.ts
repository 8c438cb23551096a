import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryBus } from "../../packages/herald/src/buses/memory.ts";
import { Hub } from "../../packages/herald/src/core/hub.ts";
import type { CloseReason, Sink } from "../../packages/herald/src/core/subscriber.ts";
import { parseSelector } from "../../packages/herald/src/core/topic.ts";

/** A Sink that records each write (the hub's unit of batching). */
class RecordingSink implements Sink {
  writes: string[] = [];
  ended: CloseReason | undefined;
  write(bytes: Uint8Array): boolean {
    this.writes.push(new TextDecoder().decode(bytes));
    return true;
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
  end(reason: CloseReason): void {
    this.ended = reason;
  }
  ids(): string[] {
    return [...this.writes.join("").matchAll(/^id: (.*)$/gm)].map((m) => m[1] as string);
  }
}

/** A hub whose turn ends only when the test says so. */
function manualHub() {
  const bus = new MemoryBus({ history: { maxEvents: 1000, maxAgeMs: 0 } });
  const turns: (() => void)[] = [];
  const hub = new Hub({ bus, replayLimit: 1000, maxPendingBytes: 1 << 20, defer: (f) => turns.push(f) });
  const endTurn = () => {
    for (const f of turns.splice(0)) f();
  };
  return { hub, endTurn };
}

async function subscribe(hub: Hub, topics: string[], lastEventId?: string) {
  const sink = new RecordingSink();
  await hub.subscribe({ selectors: topics.map(parseSelector), sink, lastEventId });
  return sink;
}

describe("batched fan-out", () => {
  it("writes each subscriber's share of a turn in one write, in bus order, each event once", async () => {
    const { hub, endTurn } = manualHub();
    await hub.start();
    const single = await subscribe(hub, ["a"]);
    const single2 = await subscribe(hub, ["a"]);
    const both = await subscribe(hub, ["a", "b"]);
    const pattern = await subscribe(hub, ["*"]);
    const other = await subscribe(hub, ["c"]);
    const topics = [["a"], ["b"], ["a", "b"], ["a"], ["b"], ["b", "c"]];
    const publishing = Promise.all(topics.map((t, i) => hub.publish([{ topics: t, data: `e${i}` }])));
    await new Promise((resolve) => setImmediate(resolve)); // every append reached the hub
    endTurn();
    const results = (await publishing).map(([r]) => r!);
    const ids = results.map((r) => r.id);
    const want = (pred: (t: string[]) => boolean) => ids.filter((_, i) => pred(topics[i]!));

    assert.deepEqual(
      single.ids(),
      want((t) => t.includes("a")),
    );
    assert.equal(single.writes.length, 1, "one write for the whole turn");
    assert.equal(single2.writes[0], single.writes[0], "same bytes for every single-topic subscriber");
    assert.deepEqual(
      both.ids(),
      want((t) => t.includes("a") || t.includes("b")),
    );
    assert.equal(both.writes.length, 1);
    assert.deepEqual(pattern.ids(), ids);
    assert.equal(pattern.writes.length, 1);
    assert.deepEqual(
      other.ids(),
      want((t) => t.includes("c")),
    );
    assert.deepEqual(
      results.map((r) => r.queued),
      [4, 2, 4, 4, 2, 3],
      "queued counts each subscriber once per event",
    );
  });

  it("a subscriber resuming while a turn is pending gets every event once, in order", async () => {
    const { hub, endTurn } = manualHub();
    await hub.start();
    const first = hub.publish([{ topics: ["a"], data: "0" }]);
    endTurn();
    const firstId = (await first)[0]!.id;
    // two events stored but not yet written when the resuming subscriber joins
    const pending = hub.publish([
      { topics: ["a"], data: "1" },
      { topics: ["a"], data: "2" },
    ]);
    await new Promise((resolve) => setImmediate(resolve));
    const resumed = await subscribe(hub, ["a"], firstId);
    const live = await subscribe(hub, ["a"]);
    endTurn();
    const ids = (await pending).map((r) => r.id);
    assert.deepEqual(resumed.ids(), ids);
    assert.deepEqual(live.ids(), [], "a live-only subscriber gets only what was stored after it joined");
    const later = hub.publish([{ topics: ["a"], data: "3" }]);
    endTurn();
    const lastId = (await later)[0]!.id;
    assert.deepEqual(resumed.ids(), [...ids, lastId]);
    assert.deepEqual(live.ids(), [lastId]);
  });

  it("a private event in a batch reaches only subscribers authorized for it", async () => {
    const { hub, endTurn } = manualHub();
    await hub.start();
    const plain = await subscribe(hub, ["a"]);
    const sink = new RecordingSink();
    await hub.subscribe({ selectors: [parseSelector("a")], privateSelectors: [parseSelector("a")], sink });
    const publishing = hub.publish([
      { topics: ["a"], data: "public" },
      { topics: ["a"], data: "secret", private: true },
    ]);
    endTurn();
    const [pub, priv] = await publishing;
    assert.deepEqual(plain.ids(), [pub!.id]);
    assert.deepEqual(sink.ids(), [pub!.id, priv!.id]);
  });
});
