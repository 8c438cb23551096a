import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Webhooks } from "../../packages/herald/src/webhooks/webhooks.ts";

/**
 * A dead webhook endpoint under connection churn fills the queue; every event past it is dropped
 * and counted (/metrics). The log must not get one line per dropped event (a flood that would hide
 * everything else): at most one line per interval, saying how many were dropped since the last.
 */
describe("webhooks: dropped events are logged in summary", () => {
  it("10,000 drops in a burst give one warning line with their count, not 10,000", () => {
    const lines: { fields: Record<string, unknown>; message: string }[] = [];
    const hooks = new Webhooks({
      url: "http://127.0.0.1:9/never", // discard port: nothing answers
      secret: "s",
      events: ["subscriber.connected"],
      timeoutMs: 60_000,
      attempts: 1,
      maxQueued: 10,
      log: { warn: (fields, message) => lines.push({ fields: fields as Record<string, unknown>, message }) },
    });
    try {
      for (let i = 0; i < 10_010; i++) hooks.local("connected", `t${i % 7}`, { sub: `u${i}` } as never);
      const drops = lines.filter((line) => /queue full/.test(line.message));
      assert.equal(drops.length, 1, `one line: ${drops.length} lines`);
      assert.equal(drops[0]?.fields.dropped, 1, "the first drop is logged at once");
      assert.match(drops[0]?.message ?? "", /herald_webhook_dropped_total/);
      // the rest is said when the next line is due, or at the stop: every drop is told once
      hooks.close();
      const told = lines
        .filter((line) => /dropped/.test(line.message))
        .reduce((sum, line) => sum + Number(line.fields.dropped ?? 0), 0);
      assert.ok(hooks.queue.counters.dropped > 9_000);
      assert.equal(told, hooks.queue.counters.dropped);
    } finally {
      hooks.close();
    }
  });
});
