import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ToPrimary, ToWorker } from "../../packages/herald/src/cluster/wire.ts";
import { ClusterBus, type ClusterChannel } from "../../packages/herald/src/cluster/worker-bus.ts";
import type { HeraldEvent } from "../../packages/herald/src/core/event.ts";

/** A worker's bus on an in-process channel: the test plays the primary's side of the IPC protocol. */
function worker() {
  const sent: ToPrimary[] = [];
  let deliver: (message: ToWorker) => void = () => {};
  const channel: ClusterChannel = {
    send: (message) => sent.push(message),
    onMessage: (listener) => {
      deliver = listener;
    },
  };
  return { bus: new ClusterBus(channel), sent, turn: (message: ToWorker) => deliver(message) };
}

const wire = (pos: number, data: string) => ({ pos, id: `e-${pos}`, topics: ["t"], data, time: 1 });

describe("cluster worker: the events it keeps for the primary's answers", () => {
  it("keeps small events and never a large one: the history's byte bound is not undone on every worker", async () => {
    const { bus, sent, turn } = worker();
    const got: HeraldEvent[] = [];
    await bus.start((events) => got.push(...events));
    const small = "s".repeat(200);
    const large = "L".repeat(256 * 1024);
    turn({
      herald: "turn",
      events: [wire(1, small), wire(2, large)],
      answers: [],
      historySize: 2,
      headId: "e-2",
    });
    assert.equal(got.length, 2, "both delivered");
    const append = () =>
      bus.append([{ topics: ["t"], data: "x" }]).then(
        (r) => r,
        (e: Error) => e,
      );
    const [first, second] = [append(), append()];
    await new Promise((resolve) => setImmediate(resolve));
    const rids = (sent.find((m) => m.herald === "append") as { requests: { rid: number }[] }).requests.map(
      (r) => r.rid,
    );
    // the primary names the small event by position only; the large one must come with the answer
    turn({
      herald: "turn",
      events: [],
      answers: [
        { rid: rids[0]!, appended: [{ pos: 1, duplicate: true }] },
        { rid: rids[1]!, appended: [{ pos: 2, duplicate: true }] },
      ],
      historySize: 2,
      headId: "e-2",
    });
    const kept = await first;
    assert.ok(!(kept instanceof Error), String(kept));
    assert.equal(kept[0]!.event, got[0], "the small event is the object the hub delivered");
    const notKept = await second;
    assert.ok(
      notKept instanceof Error && /without its event/.test(notKept.message),
      "the large one was not kept",
    );
  });
});
