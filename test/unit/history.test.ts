import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryBus } from "../../packages/herald/src/buses/memory.ts";
import { EARLIEST } from "../../packages/herald/src/core/bus.ts";
import { HeraldError } from "../../packages/herald/src/core/errors.ts";
import type { HeraldEvent } from "../../packages/herald/src/core/event.ts";
import { History } from "../../packages/herald/src/core/history.ts";
import { storeEvent } from "../../packages/herald/src/core/stored-event.ts";

function bus(maxEvents = 5, maxAgeMs = 0, clock = { now: 1000 }) {
  return new MemoryBus({ epoch: "e1", history: { maxEvents, maxAgeMs, now: () => clock.now } });
}

const input = (data: string, id?: string) => ({ topics: ["t"], data, id });

describe("memory bus history", () => {
  it("assigns unique increasing ids with the epoch", async () => {
    const b = bus();
    const results = await b.append([input("a"), input("b"), input("c")]);
    assert.deepEqual(
      results.map((r) => r.event.id),
      ["e1-1", "e1-2", "e1-3"],
    );
    assert.deepEqual(
      results.map((r) => r.event.pos),
      [1, 2, 3],
    );
  });

  it("replays everything after a held id, in order", async () => {
    const b = bus();
    await b.append([input("a"), input("b", "mine"), input("c"), input("d")]);
    const r = await b.replay("mine", 100);
    assert.equal(r.kind, "events");
    assert.deepEqual(r.kind === "events" && r.events.map((e) => e.data), ["c", "d"]);
    const last = await b.replay("e1-4", 100);
    assert.deepEqual(last.kind === "events" && last.events, []);
  });

  it("treats the same id and content as a held event's as a retry: stored once, answered with the first event", async () => {
    const b = bus();
    const delivered: string[] = [];
    await b.start((events) => delivered.push(...events.map((e) => e.data)));
    const [first] = await b.append([input("a", "x")]);
    const [again] = await b.append([input("a", "x")]);
    assert.equal(again?.duplicate, true);
    assert.equal(again?.event, first?.event);
    const [other] = await b.append([input("other", "x")]);
    assert.equal(other?.duplicate, false, "other content: a new event");
    assert.deepEqual(delivered, ["a", "other"]);
    assert.equal(b.historySize(), 2);
  });

  it("evicts the oldest beyond max events and reports an evicted id as unknown", async () => {
    const b = bus(3);
    await b.append(["a", "b", "c", "d", "e"].map((d) => input(d)));
    assert.equal(b.historySize(), 3);
    const gone = await b.replay("e1-1", 100);
    assert.equal(gone.kind, "missed");
    assert.equal(gone.kind === "missed" && gone.reason, "unknown-id");
    assert.equal(gone.kind === "missed" && gone.headId, "e1-5");
    // The oldest held event's predecessor is still a valid resume point: nothing after it was lost.
    const edge = await b.replay("e1-2", 100);
    assert.deepEqual(edge.kind === "events" && edge.events.map((e) => e.data), ["c", "d", "e"]);
  });

  it("evicts by age", async () => {
    const clock = { now: 1000 };
    const b = bus(100, 500, clock);
    await b.append([input("old")]);
    clock.now = 1400;
    await b.append([input("new")]);
    clock.now = 1600;
    assert.deepEqual((await b.replay(EARLIEST, 100)).kind === "events", true);
    const r = await b.replay(EARLIEST, 100);
    assert.deepEqual(r.kind === "events" && r.events.map((e) => e.data), ["new"]);
  });

  it("answers too-old when more events follow than the replay limit", async () => {
    const b = bus(100);
    await b.append(["a", "b", "c", "d"].map((d) => input(d)));
    const r = await b.replay("e1-1", 2);
    assert.equal(r.kind === "missed" && r.reason, "too-old");
  });

  it("recognises ids of another epoch and unknown ids", async () => {
    const b = bus();
    await b.append([input("a")]);
    const other = await b.replay("zz-1", 100);
    assert.equal(other.kind === "missed" && other.reason, "epoch-changed");
    const unknown = await b.replay("no-such-id!", 100);
    assert.equal(unknown.kind === "missed" && unknown.reason, "unknown-id");
    const future = await b.replay("e1-99", 100);
    assert.equal(future.kind === "missed" && future.reason, "unknown-id");
  });

  it("a head id is always resumable, even with an empty history", async () => {
    const b = bus(5, 100, { now: 0 });
    const r = await b.replay("e1-0", 100);
    assert.deepEqual(r.kind === "events" && r.events, []);
  });

  it("refuses publisher ids shaped like its own ids, storing nothing of the batch", async () => {
    const b = bus();
    await assert.rejects(
      b.append([input("a"), input("b", "e1-7")]),
      (e: unknown) => e instanceof HeraldError,
    );
    assert.equal(b.historySize(), 0);
  });
});

describe("history: ids of events that left it", () => {
  let pos = 0;
  const stored = (topic: string, id: string, isPrivate = false): HeraldEvent =>
    storeEvent({ topics: [topic], data: `data of ${id}`, id, private: isPrivate }, ++pos, id, 0);
  /** What a subscriber may read: public events, and private ones of `topics`. */
  const reads =
    (...topics: string[]) =>
    (event: HeraldEvent) =>
      !event.private || event.topics.some((t) => topics.includes(t));

  it("blocks an id only for a subscriber that could have read the event that left", () => {
    const history = new History({ maxEvents: 2, maxAgeMs: 0 });
    history.add(stored("payroll", "x", true));
    const squat = stored("sandbox", "x");
    history.add(squat);
    history.add(stored("sandbox", "filler"));
    assert.equal(history.holds("x"), true, "the squatter's event is held, the private one left");
    assert.equal(history.resolve("x", reads(), reads()), squat, "an outsider: as if it never was");
    assert.equal(history.resolve("x", reads("payroll")), undefined, "a payroll reader could have seen it");
    assert.equal(history.resolve("x"), undefined, "without rights to judge: any event that left blocks");
    // `seen` judges the block, `visible` the held events
    const receivesNothing = () => false;
    assert.equal(history.resolve("x", receivesNothing, reads("payroll")), undefined);
    assert.equal(history.resolve("x", receivesNothing, reads()), undefined, "no held event it may read");
  });

  it("keeps stubs without data, for at most maxEvents events that left, oldest out", () => {
    const history = new History({ maxEvents: 3, maxAgeMs: 0 });
    history.add(stored("payroll", "x", true));
    for (let i = 0; i < 3; i++) history.add(stored("sandbox", `f${i}`));
    const [stub] = history.forgottenStubs("x");
    assert.deepEqual(stub && { topics: stub.topics, private: stub.private, data: stub.data, id: stub.id }, {
      topics: ["payroll"],
      private: true,
      data: "",
      id: "x",
    });
    // three more events leave: the stub of x was the oldest of four, it is dropped
    for (let i = 3; i < 6; i++) history.add(stored("sandbox", `f${i}`));
    assert.deepEqual(history.forgottenStubs("x"), []);
    assert.deepEqual(
      ["f0", "f1", "f2"].map((id) => history.forgottenStubs(id).length),
      [1, 1, 1],
    );
  });

  it("an event too large to hold is remembered as one that left", () => {
    const history = new History({ maxEvents: 4, maxBytes: 10, maxAgeMs: 0 });
    history.add(
      storeEvent({ topics: ["t"], data: "x".repeat(100), id: "big", private: true }, ++pos, "big", 0),
    );
    assert.equal(history.size, 0);
    assert.equal(history.forgottenStubs("big").length, 1);
    assert.equal(history.resolve("big", reads("t")), undefined);
  });

  it("remembers from the oldest of the last maxEvents events that left (what a log keeps for a node that starts)", () => {
    const history = new History({ maxEvents: 2, maxAgeMs: 0 });
    assert.equal(history.rememberedFrom(), undefined);
    const first = stored("t", "a");
    history.add(first);
    assert.equal(history.rememberedFrom(), first.pos, "nothing left: the oldest held");
    const events = [stored("t", "b"), stored("t", "c"), stored("t", "d"), stored("t", "e")];
    for (const event of events) history.add(event);
    // a, b and c left; the last two to leave are b and c
    assert.equal(history.rememberedFrom(), events[0]?.pos);
  });
});
