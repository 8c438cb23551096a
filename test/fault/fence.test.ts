import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { History, type SubscriberLog } from "./checker.ts";
import { awaitFences, FENCE, FenceWatch } from "./fence.ts";

/**
 * When the fault run may stop waiting and check (fence.ts), on hand-made histories. The case of
 * RabbitMQ seed 7 on a loaded machine: every subscriber of the node behind had the first fences,
 * not yet the last one, and the run checked at once (3 acknowledged fences "lost").
 */

const TOPICS = ["t/0", "t/1", "t/2", "p/0", "p/1"];

/** A history with one fence per topic, sent in turn, acked as `E-<i+1>` unless in `unacked`. */
function fences(unacked: number[] = []) {
  const h = new History();
  for (const [i, topic] of TOPICS.entries()) {
    h.send({
      key: `fence${i}`,
      topics: [topic],
      private: false,
      node: 0,
      publisher: FENCE,
      seq: i,
      sentAt: i,
    });
    if (!unacked.includes(i)) h.ack(`fence${i}`, `E-${i + 1}`);
  }
  return h;
}

function subscriber(h: History, selectors: string[]): SubscriberLog {
  const s = h.subscriber({ name: selectors.join(","), kind: "raw", selectors, privateSelectors: [] });
  s.openedAt = 0;
  s.opens = 1;
  return s;
}

const got = (h: History, s: SubscriberLog, ...indexes: number[]) => {
  for (const i of indexes) h.delivered(s, `E-${i + 1}`, `fence${i}`);
};

describe("fence: when the fault run may check", () => {
  it("waits for the last acknowledged fence on a subscriber's topics, not the first", () => {
    const h = fences();
    const all = subscriber(h, ["*"]);
    const some = subscriber(h, ["t/1", "p/1"]);
    const watch = new FenceWatch(h);
    got(h, all, 0, 1, 2, 3);
    got(h, some, 1);
    assert.equal(watch.settled(all), false, "p/1's fence is still on its way to *");
    assert.equal(watch.settled(some), false, "p/1's fence is still on its way to t/1,p/1");
    got(h, all, 4);
    got(h, some, 4);
    assert.equal(watch.settled(all), true);
    assert.equal(watch.settled(some), true);
  });

  it("is settled by the last fence of its own topics", () => {
    const h = fences();
    const s = subscriber(h, ["t/*"]);
    got(h, s, 2);
    assert.equal(new FenceWatch(h).settled(s), true);
  });

  it("does not wait for a fence whose publish was not acknowledged", () => {
    const h = fences([4]);
    const s = subscriber(h, ["*"]);
    got(h, s, 3);
    assert.equal(new FenceWatch(h).settled(s), true);
  });

  it("takes any fence when none on its topics was acknowledged", () => {
    const h = fences([0, 1, 2, 3, 4]);
    const s = subscriber(h, ["*"]);
    const watch = new FenceWatch(h);
    assert.equal(watch.settled(s), false);
    got(h, s, 0);
    assert.equal(watch.settled(s), true);
  });

  /** A node's readiness as FaultNode reports it: its reasons in turn, then the last one for good. */
  const node = (...reasons: (string | undefined)[]) => ({
    notReady: async () => (reasons.length > 1 ? reasons.shift() : reasons[0]),
  });
  const wait = { ms: 50, notReadyMs: 300, pollMs: 5 };

  it("ends at once when every subscriber has its last fence", async () => {
    const h = fences();
    got(h, subscriber(h, ["*"]), 0, 1, 2, 3, 4);
    const { report } = await awaitFences(h, [node(undefined)], { ...wait, ms: 60_000 });
    assert.match(report.join("\n"), /every subscriber got its last fence/);
  });

  it("says a fence missing while every node was ready is missing (a loss)", async () => {
    const h = fences();
    got(h, subscriber(h, ["*"]), 0);
    const { report } = await awaitFences(h, [node(undefined), node(undefined)], wait);
    assert.match(report.join("\n"), /not received .* by \* \(fence4\)/);
    assert.match(report.join("\n"), /every node was ready throughout the wait/);
  });

  it("waits on while a node is not ready, and says which and why", async () => {
    const h = fences();
    got(h, subscriber(h, ["*"]), 0);
    const behind = node("503 catching up", "503 catching up", undefined);
    const { report } = await awaitFences(h, [node(undefined), behind], wait);
    assert.match(report.join("\n"), /node 1 was not ready .* \(503 catching up\), ready after/);
  });

  it("waits no more than its bound for a node that never gets ready, and says so", async () => {
    const h = fences();
    got(h, subscriber(h, ["*"]), 0);
    const { report } = await awaitFences(h, [node("503 cannot tail the stream")], wait);
    // it returns (the bound), and says the node never got ready
    assert.match(report.join("\n"), /node 0 still not ready .* \(503 cannot tail the stream\)/);
  });
});
