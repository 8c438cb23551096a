import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryBus } from "../../packages/herald/src/buses/memory.ts";
import { Hub } from "../../packages/herald/src/core/hub.ts";
import type { Sink, Subscriber } from "../../packages/herald/src/core/subscriber.ts";
import { parseSelector } from "../../packages/herald/src/core/topic.ts";

/** A Sink that keeps each written buffer itself (to see which bytes are shared). */
class KeepingSink implements Sink {
  readonly writes: Uint8Array[] = [];
  write(bytes: Uint8Array): boolean {
    this.writes.push(bytes);
    return true;
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
  end(): void {}
  text(): string {
    return this.writes.map((b) => new TextDecoder().decode(b)).join("");
  }
}

describe("matched tagging in the hub (src/core/matched.ts)", () => {
  it("tags only the stream that asked; the others of the topic still share one buffer (the fast path)", async () => {
    const hub = new Hub({
      bus: new MemoryBus({ history: { maxEvents: 100, maxAgeMs: 0 } }),
      replayLimit: 100,
      maxPendingBytes: 1 << 20,
    });
    await hub.start();
    const plain = [new KeepingSink(), new KeepingSink()];
    for (const sink of plain) await hub.subscribe({ selectors: [parseSelector("a")], sink });
    const tagged = new KeepingSink();
    let subscriber: Subscriber | undefined;
    await hub.subscribe({
      selectors: ["b/*", "a"].map(parseSelector),
      sink: tagged,
      matched: true,
      onRegistered: (s) => {
        subscriber = s;
      },
    });
    assert.equal(subscriber?.single, false, "a tagged stream is never on the shared path");
    await hub.publish([
      { topics: ["a"], data: "one", id: "1" },
      { topics: ["b/x", "a"], data: "two", id: "2" },
    ]);
    assert.equal(plain[0]?.writes.length, 1);
    assert.equal(plain[0]?.writes[0], plain[1]?.writes[0], "the same bytes, built once");
    assert.equal(plain[0]?.text(), "id: 1\ndata: one\n\nid: 2\ndata: two\n\n");
    assert.equal(tagged.text(), ": matched 1\nid: 1\ndata: one\n\n: matched 0 1\nid: 2\ndata: two\n\n");
    hub.resubscribe(subscriber as Subscriber, ["c", "b/*"].map(parseSelector));
    await hub.publish([{ topics: ["b/y"], data: "three", id: "3" }]);
    assert.match(tagged.text(), /: topics \["c","b\/\*"\]\n\n: matched 1\nid: 3\ndata: three\n\n$/);
  });
});
