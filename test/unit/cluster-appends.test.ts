import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AppendRequest, ToPrimary, ToWorker } from "../../packages/herald/src/cluster/wire.ts";
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
  const appends = () =>
    sent.filter(
      (m): m is Extract<ToPrimary, { herald: "append" }> => m.herald === "append" && m.requests.length > 0,
    );
  return { bus: new ClusterBus(channel), sent, appends, turn: (message: ToWorker) => deliver(message) };
}

const turnOf = (events: HeraldEvent[] | { pos: number; data: string }[], extra: Partial<ToWorker> = {}) =>
  ({
    herald: "turn",
    events: events.map((e) => ({ pos: e.pos, id: `e-${e.pos}`, topics: ["t"], data: e.data, time: 1 })),
    answers: [],
    historySize: events.length,
    headId: `e-${events.length}`,
    ...extra,
  }) as ToWorker;
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("cluster worker: appends travel in as few messages as the round trip allows", () => {
  it("keeps one append message unacknowledged; the appends made meanwhile go together, in order, once it is acknowledged", async () => {
    const { bus, appends, turn } = worker();
    await bus.start(() => {});
    const answered: string[] = [];
    const publish = (data: string) => {
      void bus.append([{ topics: ["t"], data }]).then(
        () => answered.push(data),
        () => {},
      );
    };
    publish("a");
    await tick();
    assert.equal(appends().length, 1, "the first append goes at the end of its turn");
    publish("b");
    await tick();
    publish("c");
    await tick();
    await tick();
    assert.equal(appends().length, 1, "b and c wait: the first message is not acknowledged yet");

    const first = appends()[0] as { requests: AppendRequest[] };
    const ridA = (first.requests[0] as AppendRequest).rid;
    // the primary took `a` (stored it as position 1) and says so
    turn(turnOf([{ pos: 1, data: "a" }], { acked: ridA }));
    await tick();
    assert.equal(appends().length, 2, "b and c went once a was acknowledged");
    const second = appends()[1] as { requests: AppendRequest[] };
    assert.deepEqual(
      second.requests.map((r) => r.inputs[0]?.data),
      ["b", "c"],
      "in the order they were made, in one message",
    );
    // and a later append waits for that message's acknowledgement in turn
    publish("d");
    await tick();
    assert.equal(appends().length, 2);
    turn(turnOf([], { acked: (second.requests[1] as AppendRequest).rid }));
    await tick();
    assert.equal(appends().length, 3);
    assert.deepEqual(answered, [], "nothing is answered before the primary answers");
  });
});
