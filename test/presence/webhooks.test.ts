import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { REDIS_BIN, type RedisServer, skipReason, startRedis } from "../helpers/brokers.ts";
import { type HeraldNode, startNode } from "../helpers/cluster.ts";
import { httpRequest, RawStream, startTestHerald } from "../helpers/herald.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";
import { until } from "../helpers/waiters.ts";
import { Receiver, SECRET } from "../helpers/webhook-receiver.ts";

describe("webhooks on one node: signed, retried after a 500", () => {
  let herald: Herald;
  const receiver = new Receiver(1);
  before(async () => {
    await receiver.start();
    herald = await startTestHerald({
      jwtSecret: TEST_SECRET,
      presence: ["room/*"],
      presenceHeartbeatMs: 200,
      webhookUrl: receiver.url,
      webhookSecret: SECRET,
    });
  });
  after(async () => {
    await herald.close();
    await receiver.close();
  });

  it("sends connected, occupied, disconnected and vacated, each signed, the first one again after a 500", async () => {
    const token = await heraldToken({}, { subject: "dora" });
    const stream = new RawStream(`${herald.url}/events?topic=room/1`, bearer(token));
    try {
      await stream.opened();
      await until(() => receiver.of("topic.occupied", "room/1").length === 1, "topic.occupied", 10_000);
    } finally {
      stream.close();
    }
    await until(() => receiver.of("topic.vacated", "room/1").length === 1, "topic.vacated", 10_000);
    await until(
      () => receiver.of("subscriber.disconnected", "room/1").length === 1,
      "subscriber.disconnected",
      10_000,
    );
    const connected = receiver.of("subscriber.connected", "room/1");
    assert.equal(connected.length, 1);
    assert.equal(connected[0]?.sub, "dora");
    assert.deepEqual(receiver.rejected, [], "every request carried a valid, fresh signature");
    // the first request was answered 500: it came again (attempt 2), and nothing twice
    assert.ok(
      receiver.deliveries.some((d) => d.attempt === 2),
      JSON.stringify(receiver.deliveries),
    );
    assert.equal(new Set(receiver.deliveries.map((d) => d.id)).size, receiver.deliveries.length);
  });

  it("counts webhook deliveries in /metrics", async () => {
    const text = (await httpRequest(`${herald.url}/metrics`)).text;
    assert.match(text, /^herald_webhook_deliveries_total\{outcome="delivered"\} [1-9]/m);
    assert.match(text, /^herald_webhook_deliveries_total\{outcome="retried"\} [1-9]/m);
    assert.match(text, /^herald_webhook_dropped_total 0/m);
  });
});

const redisSkip = skipReason(REDIS_BIN, "redis-server");

describe("webhooks from 2 nodes on one redis-server: once per cluster", { skip: redisSkip }, () => {
  let redis: RedisServer;
  const nodes: HeraldNode[] = [];
  const receiver = new Receiver();
  before(async () => {
    await receiver.start();
    redis = await startRedis();
    const args = [
      ...["--jwt-secret", TEST_SECRET, "--presence", "room/*", "--presence-heartbeat", "500ms"],
      ...["--webhook-url", receiver.url, "--webhook-secret", SECRET],
    ];
    nodes.push(...(await Promise.all([startNode(redis.url, args), startNode(redis.url, args)])));
    // a node of a cluster leads (and announces topic.occupied) 2 heartbeats after it started
    await new Promise((resolve) => setTimeout(resolve, 1500));
  });
  after(async () => {
    for (const node of nodes) await node.kill("SIGKILL");
    await redis?.stop();
    await receiver.close();
  });

  it("delivers each event exactly once, whichever node it happened on", async () => {
    const [a, b] = nodes as [HeraldNode, HeraldNode];
    const streams: RawStream[] = [];
    try {
      for (const [node, sub] of [
        [a, "ann"],
        [b, "ben"],
        [b, "bea"],
      ] as const) {
        const stream = new RawStream(
          `${node.url}/events?topic=room/5`,
          bearer(await heraldToken({}, { subject: sub })),
        );
        streams.push(stream);
        await stream.opened();
      }
      await until(() => receiver.of("subscriber.connected", "room/5").length === 3, "3 connected", 10_000);
    } finally {
      for (const s of streams) s.close();
    }
    await until(
      () => receiver.of("topic.vacated", "room/5").length >= 1,
      `topic.vacated in ${JSON.stringify(receiver.deliveries)}`,
      10_000,
    );
    await until(
      () => receiver.of("subscriber.disconnected", "room/5").length === 3,
      "3 disconnected",
      10_000,
    );
    // a few heartbeats more: a late duplicate from the other node would arrive by now
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(receiver.of("topic.occupied", "room/5").length, 1, JSON.stringify(receiver.deliveries));
    assert.equal(receiver.of("topic.vacated", "room/5").length, 1, JSON.stringify(receiver.deliveries));
    assert.deepEqual(
      receiver
        .of("subscriber.connected", "room/5")
        .map((d) => d.sub)
        .sort(),
      ["ann", "bea", "ben"],
    );
    assert.equal(receiver.of("subscriber.disconnected", "room/5").length, 3);
    assert.equal(new Set(receiver.deliveries.map((d) => d.id)).size, receiver.deliveries.length);
  });
});
