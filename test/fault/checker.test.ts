import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { check, History, type SubscriberLog } from "./checker.ts";

/**
 * The checker on hand-made histories: it must flag each kind of broken promise, and only those
 * (a checker that never fails proves nothing).
 */

/** A history with events `e0..e{n-1}` on topic `t`, sent at time 10+i, acked as `E-<i+1>`. */
function history(n: number, extra: { private?: number[]; unacked?: number[] } = {}) {
  const h = new History();
  for (let i = 0; i < n; i++) {
    h.send({
      key: `e${i}`,
      topics: ["t"],
      private: extra.private?.includes(i) ?? false,
      node: 0,
      publisher: "p",
      seq: i,
      sentAt: 10 + i,
    });
    if (!extra.unacked?.includes(i)) h.ack(`e${i}`, `E-${i + 1}`);
  }
  return h;
}

function subscriber(h: History, claim: string[] = [], openedAt = 0): SubscriberLog {
  const s = h.subscriber({ name: "s", kind: "raw", selectors: ["t"], privateSelectors: claim });
  s.openedAt = openedAt;
  s.opens = 1;
  return s;
}

const got = (h: History, s: SubscriberLog, ...indexes: number[]) => {
  for (const i of indexes) h.delivered(s, `E-${i + 1}`, `e${i}`);
};
const missed = (h: History, s: SubscriberLog, id: string) =>
  h.missedSignal(s, id, JSON.stringify({ lastEventId: "E-1", reason: "unknown-id" }));

describe("fault checker", () => {
  it("passes a history where every acknowledged event arrived once, in order", () => {
    const h = history(3);
    got(h, subscriber(h), 0, 1, 2);
    const report = check(h);
    assert.equal(report.violations.total, 0, report.examples.join("\n"));
    assert.equal(report.expected, 3);
    assert.equal(report.delivered, 3);
  });

  it("flags an acknowledged event that never arrived", () => {
    const h = history(3);
    got(h, subscriber(h), 0, 2);
    const report = check(h, (e) => (e.key === "e1" ? "step 1" : "other"));
    assert.equal(report.violations.lost, 1);
    assert.deepEqual(report.byPhase, { "step 1": { lost: 1 } });
  });

  it("accepts a gap that a herald.missed event covers, and counts it", () => {
    const h = history(4);
    const s = subscriber(h);
    got(h, s, 0);
    missed(h, s, "E-3");
    got(h, s, 3);
    const report = check(h);
    assert.equal(report.violations.total, 0, report.examples.join("\n"));
    assert.equal(report.covered, 2);
    assert.equal(report.missedSignals, 1);
  });

  it("does not let herald.missed cover an event outside the gap it sits in", () => {
    const h = history(4);
    const s = subscriber(h);
    got(h, s, 0);
    missed(h, s, "E-2");
    got(h, s, 2); // e1 covered; e3 after the next delivery: lost
    assert.equal(check(h).violations.lost, 1);
  });

  it("flags duplicates and events out of log order", () => {
    const h = history(3);
    got(h, subscriber(h), 0, 2, 1, 2);
    const report = check(h);
    assert.equal(report.violations.duplicate, 1);
    assert.equal(report.violations.order, 1); // e1 after e2; the second e2 follows e1
  });

  it("flags a private event on a stream whose token does not allow its topic", () => {
    const h = history(2, { private: [1] });
    got(h, subscriber(h), 0, 1);
    got(h, subscriber(h, ["other"]), 0, 1);
    got(h, subscriber(h, ["t"]), 0, 1);
    const report = check(h);
    assert.equal(report.violations["private-leak"], 2);
    assert.equal(report.violations.total, 2);
  });

  it("expects only events sent after the subscriber opened; unacknowledged ones may arrive", () => {
    const h = history(4, { unacked: [3] });
    got(h, subscriber(h, [], 11.5), 2, 3); // e0, e1 sent before it opened; e3 not acknowledged
    const report = check(h);
    assert.equal(report.violations.total, 0, report.examples.join("\n"));
    assert.equal(report.expected, 1);
  });

  it("flags an event that was never published, and one under another id than its answer", () => {
    const h = history(2);
    const s = subscriber(h);
    got(h, s, 0);
    h.delivered(s, "E-2", "forged");
    h.delivered(s, "E-3", "e1");
    const report = check(h);
    assert.equal(report.violations.unknown, 1);
    assert.equal(report.violations["id-mismatch"], 1);
  });

  it("orders a new epoch after the old one, and flags a publisher's events stored out of order", () => {
    const h = new History();
    for (const [i, id] of ["A-5", "A-6", "B-1", "B-3", "B-2"].entries()) {
      h.send({ key: `k${i}`, topics: ["t"], private: false, node: 0, publisher: "p", seq: i, sentAt: i });
      h.ack(`k${i}`, id);
    }
    const report = check(h);
    assert.equal(report.violations["ack-order"], 1, report.examples.join("\n"));
  });

  it("lets a herald.missed after a lost log (new epoch) cover the old epoch's tail and the new one's head", () => {
    const h = new History();
    for (const [i, id] of ["A-1", "A-2", "A-3", "B-1", "B-2"].entries()) {
      h.send({ key: `k${i}`, topics: ["t"], private: false, node: 0, publisher: `p${i}`, seq: 0, sentAt: i });
      h.ack(`k${i}`, id);
    }
    const s = subscriber(h);
    h.delivered(s, "A-1", "k0");
    h.missedSignal(s, "B-1", JSON.stringify({ lastEventId: "A-1", reason: "epoch-changed" }));
    h.delivered(s, "B-2", "k4");
    const report = check(h);
    assert.equal(report.violations.total, 0, report.examples.join("\n"));
    assert.equal(report.covered, 3);
  });
});
