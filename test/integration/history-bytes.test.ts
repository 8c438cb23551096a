import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { defaultsWith, loadConfig } from "../../packages/herald/src/config/settings.ts";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { startNode } from "../helpers/cluster.ts";
import { httpRequest, publish, RawStream, startTestHerald } from "../helpers/herald.ts";
import { eventsOf } from "../helpers/id-scope-suite.ts";

describe("history is bounded in bytes (HERALD_HISTORY_MAX_BYTES)", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({ historyMaxBytes: 64 * 1024 });
  });
  after(() => herald.close());

  it("evicts the oldest events beyond the bound; resuming from an evicted id is answered as missed", async () => {
    const data = "x".repeat(16 * 1024);
    for (let i = 0; i < 10; i++) {
      const answer = await publish(herald.url, { topic: "big", id: `big.${i}`, data });
      assert.equal(answer.status, 200, answer.text);
    }
    const status = await httpRequest(`${herald.url}/status`);
    const held = (status.body as { historySize: number }).historySize;
    assert.ok(held >= 1 && held <= 3, `16 KiB events in a 64 KiB history: ${held} held`);
    const evicted = new RawStream(`${herald.url}/events?topic=big`, { "last-event-id": "big.0" });
    const kept = new RawStream(`${herald.url}/events?topic=big`, { "last-event-id": "big.8" });
    try {
      await evicted.until(() => eventsOf(evicted.text).length > 0);
      const [missed] = eventsOf(evicted.text);
      assert.equal(missed!.type, "herald.missed");
      assert.deepEqual(JSON.parse(missed!.data), { lastEventId: "big.0", reason: "unknown-id" });
      await kept.until(() => eventsOf(kept.text).length > 0);
      assert.deepEqual(
        eventsOf(kept.text).map((e) => e.id),
        ["big.9"],
      );
    } finally {
      evicted.close();
      kept.close();
    }
  });

  it("has a safe default, and the setting reads sizes", () => {
    assert.equal(defaultsWith({}).historyMaxBytes, 64 * 1024 * 1024);
    assert.equal(loadConfig({}, { HERALD_HISTORY_MAX_BYTES: "1MiB" }).historyMaxBytes, 1024 * 1024);
    assert.equal(loadConfig({ historyMaxBytes: "2MiB" }, {}).historyMaxBytes, 2 * 1024 * 1024);
    assert.throws(() => loadConfig({}, { HERALD_HISTORY_MAX_BYTES: "lots" }), /HERALD_HISTORY_MAX_BYTES/);
  });
});

describe("large events with --workers 2 (workers keep no copy of them)", () => {
  it("are stored, delivered on every worker and answered, live and replayed", async () => {
    const node = await startNode("memory", ["--workers", "2"]);
    const streams = [0, 1, 2, 3].map(() => new RawStream(`${node.url}/events?topic=large`));
    try {
      await Promise.all(streams.map((s) => s.opened()));
      const data = (i: number) => `${i}`.padEnd(200_000, "y");
      for (let i = 0; i < 6; i++) {
        const answer = await publish(node.url, { topic: "large", id: `large.${i}`, data: data(i) });
        assert.equal(answer.status, 200, answer.text);
        // queued counts the subscribers of the worker that took the publish (0 to 4 of the 4 here)
        const first = answer.body as { id: string; queued: number };
        assert.equal(first.id, `large.${i}`);
        assert.ok(Number.isInteger(first.queued) && first.queued >= 0 && first.queued <= 4, answer.text);
        const retry = await publish(node.url, { topic: "large", id: `large.${i}`, data: data(i) });
        assert.equal((retry.body as { id: string }).id, first.id, "a retry is answered with the first's id");
      }
      for (const stream of streams) {
        await stream.until(() => eventsOf(stream.text).length === 6);
        assert.deepEqual(
          eventsOf(stream.text).map((e) => [e.id, e.data === data(Number(e.id.slice(6)))]),
          [0, 1, 2, 3, 4, 5].map((i) => [`large.${i}`, true]),
        );
      }
      const resumed = new RawStream(`${node.url}/events?topic=large`, { "last-event-id": "large.3" });
      streams.push(resumed);
      await resumed.until(() => eventsOf(resumed.text).length >= 2);
      const replayed = eventsOf(resumed.text);
      assert.deepEqual(
        replayed.map((e) => [e.id, e.data.length, e.data === data(Number(e.id.slice(6)))]),
        [
          ["large.4", 200_000, true],
          ["large.5", 200_000, true],
        ],
      );
    } finally {
      for (const stream of streams) stream.close();
      await node.kill("SIGTERM");
    }
  });
});
