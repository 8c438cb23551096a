import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DeliveryCounts } from "../../packages/herald/src/cluster/counts.ts";

describe("DeliveryCounts: queued for the whole cluster", () => {
  it("holds an answer until every worker the events went to has counted them, then sums", () => {
    const counts = new DeliveryCounts<string>({ keep: 100, maxHoldMs: 1000, now: () => 0 });
    const released: number[] = [];
    counts.hold(2, ["a", "b"], () => released.push(counts.sum(2)));
    counts.counted("a", 1, [5, 3]);
    assert.deepEqual(released, [], "b has not counted yet");
    counts.counted("b", 1, [1]);
    assert.deepEqual(released, [], "b has counted position 1 only");
    counts.counted("b", 2, [4]);
    assert.deepEqual(released, [7], "3 on a + 4 on b");
    assert.equal(counts.sum(1), 6);
    assert.equal(counts.heldCount, 0);
  });

  it("answers at once what every worker has counted already (a retry), and 0 for what it forgot", () => {
    const counts = new DeliveryCounts<string>({ keep: 2, maxHoldMs: 1000, now: () => 0 });
    counts.counted("a", 1, [1, 2, 3]);
    let answered = -1;
    counts.hold(2, ["a"], () => {
      answered = counts.sum(2);
    });
    assert.equal(answered, 2);
    assert.equal(counts.sum(1), 0, "only the last `keep` positions are kept");
  });

  it("stops waiting for a worker that is gone, and for one stuck longer than maxHoldMs", () => {
    let now = 0;
    const counts = new DeliveryCounts<string>({ keep: 100, maxHoldMs: 1000, now: () => now });
    const released: string[] = [];
    counts.hold(1, ["a", "b"], () => released.push("first"));
    counts.hold(2, ["a", "b"], () => released.push("second"));
    counts.counted("a", 1, [1, 1]);
    counts.gone("b");
    assert.deepEqual(released, ["first", "second"], "in the order held");
    counts.hold(3, ["a"], () => released.push("third"));
    now = 999;
    counts.expire();
    assert.deepEqual(released.length, 2);
    now = 1000;
    counts.expire();
    assert.deepEqual(released, ["first", "second", "third"]);
  });
});
