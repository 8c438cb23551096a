import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PresenceMemory } from "../../packages/herald/src/cluster/presence-memory.ts";
import { LowestNodeLeads, newNodeId } from "../../packages/herald/src/presence/lowest-leads.ts";

// What the primary of --workers tells a worker that starts, and who leads where the lowest id does.
describe("PresenceMemory (the primary's memory of its workers' presence)", () => {
  const sender = { seq: 1, ttlMs: 900, warm: true, leads: true, warmFor: 100 };

  it("gives a starting worker the other workers' counts, deltas applied, with the TTL they have left", () => {
    const memory = new PresenceMemory();
    assert.equal(
      memory.heard({ kind: "snapshot", node: "a", ...sender, counts: { t: [0, { x: 1 }] } }, 0),
      true,
    );
    memory.heard({ kind: "delta", node: "a", ...sender, seq: 2, changes: [["t", "y", 1]] }, 100);
    assert.equal(
      memory.heard({ kind: "snapshot", node: "b", ...sender, warm: false, counts: {} }, 400),
      true,
    );
    assert.deepEqual(memory.replay("b", 400), [
      {
        kind: "snapshot",
        node: "a",
        seq: 2,
        ttlMs: 600,
        warm: true,
        leads: true,
        warmFor: 400,
        counts: { t: [0, { x: 1, y: 1 }] },
      },
    ]);
  });

  it("forgets a worker past its TTL, after its goodbye, and when its messages are out of step", () => {
    const memory = new PresenceMemory();
    memory.heard({ kind: "snapshot", node: "a", ...sender, counts: { t: [1, {}] } }, 0);
    memory.heard({ kind: "snapshot", node: "b", ...sender, counts: { t: [1, {}] } }, 0);
    memory.heard({ kind: "snapshot", node: "c", ...sender, counts: { t: [1, {}] } }, 500);
    memory.heard({ kind: "bye", node: "b" }, 600);
    memory.heard({ kind: "delta", node: "c", ...sender, seq: 5, changes: [] }, 600);
    assert.deepEqual(memory.replay("new", 900), []);
    assert.equal(memory.heard({ kind: "snapshot", node: "a", ...sender, counts: {} }, 1000), true);
  });
});

describe("newNodeId and LowestNodeLeads", () => {
  it("ids sort by start time, so the eldest node leads", async () => {
    const elder = newNodeId(1_000);
    const younger = newNodeId(1_001);
    assert.ok(elder < younger);
    assert.match(elder, /^[0-9a-f]{20}$/);
    const leads = (node: string, warm: string[], known: string[]) =>
      new LowestNodeLeads(
        () => warm,
        () => known,
      ).claim(node, 600);
    assert.equal(await leads(younger, [elder], [elder]), false);
    assert.equal(await leads(elder, [younger], [younger]), true);
    // at the end of its warm-up a node defers to an elder it has not seen warm yet
    assert.equal(await leads(younger, [], [elder]), true);
    assert.equal(
      await new LowestNodeLeads(
        () => [],
        () => [elder],
      ).claim(younger, 600, true),
      false,
    );
  });
});
