import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  RABBIT_BIN,
  type RabbitServer,
  REDIS_BIN,
  type RedisServer,
  skipReason,
  startRabbit,
  startRedis,
} from "../helpers/brokers.ts";
import { type HeraldNode, startNode } from "../helpers/cluster.ts";
import { RawStream } from "../helpers/herald.ts";

/**
 * test/attack/resume-on-lagging-node.test.ts with PUBLISHER ids (`p0`..`p2999`) instead of hub ids.
 * Promise (cab0fd2, core/bus.ts ReplayResult `after`): "a subscriber resuming on a node behind the
 * log gets nothing at or before its resume point" (on Redis and RabbitMQ); docs/buses.md: clients
 * reconnect to another node with Last-Event-ID and get what they missed from that node's copy.
 *
 * A hub id names a position, so node B waits until its tail reached it (`LogBus.catchUp`). A
 * publisher id B has not read yet: the Redis bus waits (bounded) for its tail to reach the log's
 * newest entry (RedisBus.catchUp) and holds; the RabbitMQ bus does not. B answers
 * `herald.missed` `unknown-id` for an id that is in the log, then sends every event its tail reads
 * while catching up: thousands the client already had, at or before its Last-Event-ID.
 */
async function resumesOnLaggingNode(busUrl: () => string, nodes: HeraldNode[]): Promise<void> {
  const a = await startNode(busUrl());
  nodes.push(a);
  const b = await startNode(busUrl());
  nodes.push(b);
  // B stalls while A takes a burst (a long pause, or a node busy elsewhere)
  process.kill(b.pid, "SIGSTOP");
  let lastId = "";
  try {
    const events = Array.from({ length: 3000 }, (_, i) => ({ topic: "r", id: `p${i}`, data: `r${i}` }));
    const response = await fetch(`${a.url}/publish/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ events }),
    });
    assert.equal(response.status, 200);
    const answer = (await response.json()) as { results: { id: string }[] };
    lastId = answer.results.at(-1)?.id ?? "";
  } finally {
    // the client that read all 3000 on A reconnects to B with the last id (the request waits in
    // B's listen queue until B runs again)
    process.kill(b.pid, "SIGCONT");
  }
  const stream = new RawStream(`${b.url}/events?topic=r`, { "last-event-id": lastId });
  try {
    await stream.opened();
    const fence = await fetch(`${a.url}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ topic: "r", data: "fence" }),
    });
    assert.equal(fence.status, 200);
    await stream.until(() => stream.text.includes("data: fence"), 30_000);
    const again = [...stream.text.matchAll(/^data: (r\d+)$/gm)].map((m) => m[1]);
    const missed = /event: herald\.missed\ndata: (.*)/.exec(stream.text)?.[1];
    assert.deepEqual(
      { again: again.length, missed },
      { again: 0, missed: undefined },
      `${again.length} events the client already had (at or before ${lastId}) were sent again; herald.missed: ${missed}`,
    );
  } finally {
    stream.close();
  }
}

describe("attack: resuming from a PUBLISHER id on a node behind the shared log: no event at or before it again", () => {
  describe("Redis", { skip: skipReason(REDIS_BIN, "redis-server") }, () => {
    let redis: RedisServer;
    const nodes: HeraldNode[] = [];
    before(async () => {
      redis = await startRedis();
    });
    after(async () => {
      for (const node of nodes) await node.kill("SIGTERM");
      await redis?.stop();
    });
    it("the events B reads while it catches up are not sent to the resumed stream", async () => {
      await resumesOnLaggingNode(() => redis.url, nodes);
    });
  });

  describe("RabbitMQ", { skip: skipReason(RABBIT_BIN, "rabbitmq-server") }, () => {
    let rabbit: RabbitServer;
    const nodes: HeraldNode[] = [];
    before(async () => {
      rabbit = await startRabbit();
    });
    after(async () => {
      for (const node of nodes) await node.kill("SIGTERM");
      await rabbit?.stop();
    });
    it("the events B reads while it catches up are not sent to the resumed stream", async () => {
      await resumesOnLaggingNode(() => rabbit.url, nodes);
    });
  });
});
