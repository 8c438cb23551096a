import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Sink } from "../../packages/herald/src/core/subscriber.ts";
import { parseSelector } from "../../packages/herald/src/core/topic.ts";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, startTestHerald } from "../helpers/herald.ts";

/**
 * Issue 11: thousands of pattern subscribers (32 prefix selectors each) and one batch of 1,000
 * events held the event loop for ~10 s: /healthz answered only when the whole batch was written.
 * Here /healthz is asked as soon as the first events of the batch reach a subscriber, and must be
 * answered before that subscriber has the whole batch: the hub yields between fan-out steps.
 * (Counts, not timings: how far the batch got when /healthz answered.)
 */
describe("a big batch to many pattern subscribers does not hold the event loop", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald();
  });
  after(() => herald.close());

  it("answers /healthz between the steps of a batch's fan-out", async () => {
    let healthz: Promise<number> | undefined;
    let receivedWhenHealthy = -1;
    const counts: number[] = [];
    // 1,000 subscribers with 32 prefix selectors each (one of them matches the batch's topics),
    // registered on the server's hub with in-process sinks: same fan-out as HTTP streams, cheaper
    for (let s = 0; s < 1000; s++) {
      const index = counts.push(0) - 1;
      const sink: Sink = {
        write: (bytes) => {
          counts[index] = (counts[index] as number) + countEvents(bytes);
          if (index === 0 && healthz === undefined) {
            healthz = httpRequest(`${herald.url}/healthz`).then((res) => {
              receivedWhenHealthy = counts[0] as number;
              return res.status;
            });
          }
          return true;
        },
        drained: () => Promise.resolve(),
        end: () => {},
      };
      const selectors = Array.from({ length: 32 }, (_, k) =>
        parseSelector(k === 31 ? "load/*" : `idle${s}/${k}/*`),
      );
      await herald.hub.subscribe({ selectors, sink });
    }
    const events = Array.from({ length: 1000 }, (_, i) => ({ topic: `load/${i % 10}`, data: i }));
    const batch = await httpRequest(`${herald.url}/publish/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ events }),
    });
    assert.equal(batch.status, 200, batch.text);
    assert.ok(healthz !== undefined, "the batch reached the subscriber");
    assert.equal(await healthz, 200);
    assert.deepEqual(new Set(counts), new Set([1000]), "every subscriber got the whole batch");
    assert.ok(
      receivedWhenHealthy >= 0 && receivedWhenHealthy < 1000,
      `/healthz was answered only after the subscriber had ${receivedWhenHealthy} of the batch's 1,000 events`,
    );
  });
});

const ID_LINE = /^id: /gm;
function countEvents(bytes: Uint8Array): number {
  return new TextDecoder().decode(bytes).match(ID_LINE)?.length ?? 0;
}
