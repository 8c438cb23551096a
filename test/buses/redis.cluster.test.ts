import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { REDIS_BIN, type RedisServer, skipReason, startRedis } from "../helpers/brokers.ts";
import { Client, expectAllDelivered, type HeraldNode, publishTo, startNode } from "../helpers/cluster.ts";

const skip = skipReason(REDIS_BIN, "redis-server");

describe("three Herald processes on one Redis", { skip }, () => {
  let redis: RedisServer;
  let nodes: HeraldNode[] = [];
  const clients: Client[] = [];
  const acked: string[] = [];

  before(async () => {
    redis = await startRedis({ durable: true });
    nodes = await Promise.all([0, 1, 2].map(() => startNode(redis.url)));
    for (let i = 0; i < 6; i++) clients.push(new Client(nodes, i % 3, "prices"));
    await Promise.all(clients.map((c) => c.open()));
  });
  after(async () => {
    for (const client of clients) client.close();
    for (const node of nodes) await node.kill("SIGTERM");
    await redis?.stop();
  });

  it("every subscriber on every node gets every event once, in one order", async () => {
    for (let i = 0; i < 60; i++) {
      const data = `a${i}`;
      assert.ok(await publishTo(nodes[i % 3]!, "prices", data), "publish answered 2xx");
      acked.push(data);
    }
    await expectAllDelivered(clients, acked);
  });

  it("Redis killed with SIGKILL while a publisher runs: every acknowledged event arrives once", async () => {
    let refused = 0;
    let n = 0;
    const publisher = (async () => {
      for (; acked.length < 60 + 150; n++) {
        const data = `b${n}`;
        if (await publishTo(nodes[n % 3]!, "prices", data)) acked.push(data);
        else {
          refused++;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();
    await until(() => acked.length >= 60 + 40);
    await redis.kill();
    await until(() => refused > 0);
    const ready = await fetch(`${nodes[0]!.url}/readyz`);
    assert.equal(ready.status, 503, "not ready while Redis is down");
    assert.match(JSON.stringify(await ready.json()), /Redis/);
    const refusal = await fetch(`${nodes[1]!.url}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ topic: "prices", data: "refused" }),
    });
    assert.equal(refusal.status, 503);
    assert.ok(Number(refusal.headers.get("retry-after")) > 0, "Retry-After is set");
    await redis.start();
    await publisher;
    await expectAllDelivered(clients, acked);
  });

  it("a node killed with SIGKILL: its clients resume on another node with no gap", async () => {
    await nodes[0]!.kill("SIGKILL");
    for (let i = 0; i < 30; i++) {
      const data = `c${i}`;
      assert.ok(await publishTo(nodes[1 + (i % 2)]!, "prices", data));
      acked.push(data);
    }
    await expectAllDelivered(clients, acked);
  });
});

async function until(test: () => boolean): Promise<void> {
  while (!test()) await new Promise((r) => setTimeout(r, 10));
}
