import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createClient } from "redis";
import { REDIS_BIN, skipReason, startRedis } from "../helpers/brokers.ts";
import { startNode } from "../helpers/cluster.ts";
import { httpRequest, publish } from "../helpers/herald.ts";
import { runIdScopeSuite } from "../helpers/id-scope-suite.ts";
import { TEST_SECRET } from "../helpers/tokens.ts";
import { eventually } from "../helpers/waiters.ts";

const skip = skipReason(REDIS_BIN, "redis-server");

describe("on Redis", { skip }, () => {
  runIdScopeSuite("Redis bus, two nodes (publishes and streams on either)", async () => {
    const redis = await startRedis();
    const started = [0, 1].map(() => startNode(redis.url, ["--jwt-secret", TEST_SECRET]));
    const nodes = await Promise.all(started).catch(async (error: unknown) => {
      // a node that did not start: stop what did, and Redis, before failing
      for (const node of await Promise.allSettled(started)) {
        if (node.status === "fulfilled") await node.value.kill("SIGTERM");
      }
      await redis.stop();
      throw error;
    });
    return {
      url: nodes[0]!.url,
      stop: async () => {
        for (const node of nodes) await node.kill("SIGTERM");
        await redis.stop();
      },
    };
  });
});

describe("on Redis, the index of publisher ids is bounded by the stream", { skip }, () => {
  it("ids of trimmed entries are forgotten, even after batches of 10,000", async () => {
    const redis = await startRedis();
    const node = await startNode(redis.url, ["--history-size", "1000", "--bus-retention", "1000"]);
    const client = createClient({ url: redis.url });
    try {
      await client.connect();
      for (let b = 0; b < 3; b++) {
        const events = Array.from({ length: 10_000 }, (_, i) => ({
          topic: "s",
          id: `u-${b}-${i}`,
          data: "x",
        }));
        const answer = await httpRequest(`${node.url}/publish/batch`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ events }),
        });
        assert.equal(answer.status, 200, answer.text);
      }
      await eventually(async () => {
        // each publish lets the hub forget ids of entries trimmed since
        await publish(node.url, { topic: "s", data: "tick" });
        return (await client.xLen("herald:log")) <= 1100;
      }, "the stream trimmed to its retention");
      await publish(node.url, { topic: "s", data: "tick" });
      const ids = await client.hLen("herald:ids");
      assert.ok(ids <= 1100, `the ids hash holds ${ids} keys for a stream of at most 1,100 entries`);
    } finally {
      await client.quit().catch(() => undefined);
      await node.kill("SIGKILL");
      await redis.stop();
    }
  });
});
