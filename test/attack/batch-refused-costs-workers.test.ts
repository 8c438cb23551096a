import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { httpRequest } from "../helpers/herald.ts";
import { type HeraldProcess, spawnWorkers, stopHerald } from "../helpers/process.ts";

/**
 * docs/limits.md (publish rate): "a batch takes the other N - 1 once its body is read and valid,
 * all or nothing: when fewer are left it gets 429 [...], nothing of it is stored and its first
 * publish is given back (a refused batch costs nothing, so a client that retries too early does
 * not starve itself)", and "--workers N: the limits count for the whole machine". Found in an
 * attack round (2026-12-03): with --workers 2, a batch refused by the worker's own count
 * (access/limits.ts `Limits.takePublish`: `this.publishRate.take` throws before
 * `this.shared.takePublish` is asked with the refund) gives its first publish back to the
 * worker's count only; the one the machine's count (the primary, cluster/limits.ts) gave for it
 * is never returned. Each refused batch then costs a publish: a client that retries a batch too
 * early drains what it had left, and its next publishes are refused.
 */
describe("attack: a refused batch costs a publish with --workers 2", () => {
  let herald: HeraldProcess;
  before(async () => {
    // 7 publishes at most, 1 more a second: the primary never hands a worker a share of more than one
    herald = await spawnWorkers(2, { HERALD_PUBLISH_RATE: "1", HERALD_PUBLISH_BURST: "7" });
  });
  after(async () => {
    await stopHerald(herald);
  });

  const post = (path: string, body: unknown) =>
    httpRequest(`${herald.url}${path}`, {
      method: "POST",
      // one connection each: the requests spread over both workers
      headers: { "content-type": "application/json", connection: "close" },
      body: JSON.stringify(body),
    });
  const batch = (n: number) =>
    post("/publish/batch", { events: Array.from({ length: n }, (_, i) => ({ topic: "t", data: i })) });

  it("after a batch of 5 of 7, batches of 5 are refused and the 2 publishes left still pass", async () => {
    assert.equal((await batch(5)).status, 200);
    for (let i = 0; i < 12; i++) {
      const refused = await batch(5);
      assert.equal(refused.status, 429, refused.text);
    }
    const singles: number[] = [];
    for (let i = 0; i < 2; i++) singles.push((await post("/publish", { topic: "t", data: "single" })).status);
    assert.deepEqual(
      singles,
      [200, 200],
      "a refused batch costs nothing: the 2 publishes left (plus what refilled) must still be accepted",
    );
  });
});
