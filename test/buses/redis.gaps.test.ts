import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient } from "redis";
import { RedisBus } from "../../packages/herald/src/buses/redis.ts";
import { Tail } from "../bus-contract.ts";
import { REDIS_BIN, type RedisServer, skipReason, startRedis } from "../helpers/brokers.ts";
import { type HeraldNode, startNode } from "../helpers/cluster.ts";
import { RecordingClient } from "../helpers/sse-client.ts";
import { eventually } from "../helpers/waiters.ts";

/**
 * Issue 11, the Redis bus: events answered 2xx reach every live subscriber once and in order, or
 * the subscriber is told (`herald.missed`); a stream without Last-Event-ID gets no old event.
 * Herald nodes are real processes on a real redis-server.
 */

const skip = skipReason(REDIS_BIN, "redis-server");
const TYPES = ["message", "herald.missed"];

async function publishBatch(node: HeraldNode, events: { topic: string; data: string }[]): Promise<number> {
  const response = await fetch(`${node.url}/publish/batch`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ events }),
  });
  await response.arrayBuffer();
  return response.status;
}

const batch = (topic: string, prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ topic, data: `${prefix}${i}` }));

/** The reasons of the herald.missed events a client got. */
const missedReasons = (client: RecordingClient) =>
  client.events.filter((e) => e.type === "herald.missed").map((e) => JSON.parse(e.data).reason as string);

describe("Redis bus: no silent loss", { skip }, () => {
  let redis: RedisServer;
  /** Two nodes with the defaults, and two with a small history (100) and log (--bus-retention 2000). */
  let d1: HeraldNode;
  let d2: HeraldNode;
  let s1: HeraldNode;
  let s2: HeraldNode;
  const SMALL = ["--history-size", "100", "--bus-retention", "2000"];
  const nodes: HeraldNode[] = [];
  const clients: RecordingClient[] = [];
  const stopped = new Set<number>();
  before(async () => {
    redis = await startRedis({ durable: true }); // the last test restarts it and needs its data
    [d1, d2, s1, s2] = (await Promise.all([[], [], SMALL, SMALL].map((extra) => node(redis.url, extra)))) as [
      HeraldNode,
      HeraldNode,
      HeraldNode,
      HeraldNode,
    ];
  });
  after(async () => {
    for (const client of clients) client.close();
    for (const pid of stopped) process.kill(pid, "SIGCONT");
    for (const node of nodes) await node.kill("SIGTERM");
    await redis?.stop();
  });
  const node = async (url: string, extra: string[] = [], waitReady = true) => {
    const started = await startNode(url, extra, waitReady);
    nodes.push(started);
    return started;
  };
  const client = async (url: string, headers: Record<string, string> = {}) => {
    const recording = new RecordingClient(url, TYPES, headers);
    clients.push(recording);
    await recording.opened();
    return recording;
  };
  const stop = (node: HeraldNode) => {
    process.kill(node.pid, "SIGSTOP");
    stopped.add(node.pid);
  };
  const resume = (node: HeraldNode) => {
    process.kill(node.pid, "SIGCONT");
    stopped.delete(node.pid);
  };

  it("three concurrent batches of 10,000 on two nodes (defaults): every subscriber gets all 30,000, once, in order", async () => {
    const [a, b] = [d1, d2];
    const subscribers = [
      await client(`${a.url}/events?topic=burst`),
      await client(`${b.url}/events?topic=burst`),
    ];
    const batches = [0, 1, 2].map((k) => batch("burst", `${k}-`, 10_000));
    const statuses = await Promise.all(batches.map((events, k) => publishBatch(k % 2 === 0 ? a : b, events)));
    assert.deepEqual(statuses, [200, 200, 200]);
    for (const subscriber of subscribers) {
      await subscriber.until(() => subscriber.events.length >= 30_000, 60_000);
      assert.deepEqual(missedReasons(subscriber), [], "no herald.missed: nothing was lost");
      const got = subscriber.datas();
      assert.equal(got.length, 30_000, "each event once");
      for (let k = 0; k < 3; k++) {
        const mine = got.filter((d) => d.startsWith(`${k}-`));
        assert.deepEqual(
          mine,
          batches[k]!.map((e) => e.data),
          `batch ${k} complete and in order`,
        );
      }
    }
    assert.deepEqual(subscribers[0]!.datas(), subscribers[1]!.datas(), "one order on both nodes");
  });

  it("a node stopped (SIGSTOP) while the other publishes: its streams get every event after SIGCONT", async () => {
    const stalled = await client(`${s1.url}/events?topic=stall`);
    stop(s1);
    const events = batch("stall", "s", 1500); // more than the history, less than the log keeps
    for (let i = 0; i < events.length; i += 500) {
      assert.equal(await publishBatch(s2, events.slice(i, i + 500)), 200);
    }
    resume(s1);
    await stalled.until(() => stalled.events.length >= 1500, 30_000);
    assert.deepEqual(missedReasons(stalled), []);
    assert.deepEqual(
      stalled.datas(),
      events.map((e) => e.data),
    );
  });

  it("a node stopped (SIGSTOP) while the other publishes: a stream opened on it after SIGCONT gets no event published before it opened", async () => {
    const [a, b] = [d1, d2];
    stop(b);
    const events = batch("fresh", "old", 10_000);
    for (let i = 0; i < events.length; i += 5000) {
      assert.equal(await publishBatch(a, events.slice(i, i + 5000)), 200);
    }
    resume(b);
    // b's tail still has the 10,000 events to read: the stream must not get them as live
    const stream = await client(`${b.url}/events?topic=fresh`);
    assert.equal(await publishBatch(a, [{ topic: "fresh", data: "new" }]), 200);
    await stream.until(() => stream.datas().includes("new"), 30_000);
    assert.deepEqual(
      stream.events.map((e) => e.data),
      ["new"],
    );
  });

  it("a node stopped for longer than the log keeps (--bus-retention): its streams get herald.missed (gap), then the live events", async () => {
    const stalled = await client(`${s1.url}/events?topic=lag`);
    assert.equal(await publishBatch(s2, [{ topic: "lag", data: "ping" }]), 200);
    await stalled.until(() => stalled.datas().includes("ping"));
    const lastBefore = stalled.events.at(-1)!.id;
    stop(s1);
    const events = batch("lag", "x", 4000);
    for (let i = 0; i < events.length; i += 1000) {
      assert.equal(await publishBatch(s2, events.slice(i, i + 1000)), 200);
    }
    resume(s1);
    assert.equal(await publishBatch(s2, [{ topic: "lag", data: "after" }]), 200);
    await stalled.until(() => stalled.datas().includes("after"), 30_000);
    const types = stalled.events.map((e) => e.type);
    const gapAt = types.indexOf("herald.missed");
    assert.equal(gapAt, 1, `a herald.missed event right after "ping" (got ${types.length} events)`);
    assert.deepEqual(missedReasons(stalled), ["gap"]);
    const signal = JSON.parse(stalled.events[gapAt]!.data) as { lastEventId: string; missed: number };
    assert.equal(signal.lastEventId, lastBefore, "it names where the gap starts");
    // before the gap: what it had; after it: the newest events, in order, none twice
    const afterGap = stalled.events.slice(gapAt + 1).map((e) => e.data);
    assert.equal(afterGap.at(-1), "after");
    const xs = afterGap.filter((d) => d.startsWith("x")).map((d) => Number(d.slice(1)));
    assert.deepEqual(
      xs,
      xs.map((_, i) => (xs[0] as number) + i),
      "contiguous after the gap",
    );
    assert.equal(xs.at(-1), 3999);
    assert.equal(signal.missed, xs[0], "it counts the events lost");
    // a client that resumes from before the gap is told too (gap, or unknown-id once evicted)
    const resumer = await client(`${s1.url}/events?topic=lag`, { "last-event-id": lastBefore });
    await resumer.until(() => resumer.events.length > 0);
    assert.equal(resumer.events[0]!.type, "herald.missed");
  });

  it("a node started while Redis is down: a stream opened then gets no old event once Redis is back", async () => {
    assert.equal(await publishBatch(d1, batch("old", "old", 20)), 200);
    await redis.kill();
    // the events above are history: wait until they are clearly older than the node started below
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const late = await node(redis.url, [], false);
    const stream = await client(`${late.url}/events?topic=old`);
    await redis.start();
    await eventually(async () => (await fetch(`${late.url}/readyz`)).status === 200, "ready", 30_000);
    assert.equal(await publishBatch(late, [{ topic: "old", data: "new" }]), 200);
    await stream.until(() => stream.datas().includes("new"));
    assert.deepEqual(
      stream.events.map((e) => e.data),
      ["new"],
    );
  });
});

describe("Redis bus: retention", { skip }, () => {
  it("the log keeps what the slowest live node still needs, not every event: memory stays bounded", async () => {
    const redis = await startRedis();
    const client = createClient({ url: redis.url });
    const buses: RedisBus[] = [];
    try {
      await client.connect();
      for (let i = 0; i < 2; i++) {
        buses.push(new RedisBus({ url: redis.url, history: { maxEvents: 50, maxAgeMs: 0 } }));
      }
      const tails = await Promise.all(buses.map((bus) => new Tail(bus).start()));
      for (let i = 0; i < 20; i++) {
        await buses[0]!.append(Array.from({ length: 50 }, (_, k) => ({ topics: ["t"], data: `${i}-${k}` })));
      }
      for (const tail of tails) await tail.has(1000);
      assert.equal(await client.hLen("herald:readers"), 2, "each live node records its place");
      // each node holds its history (50 events) back; XTRIM MINID ~ trims whole nodes of 100 entries
      await eventually(async () => (await client.xLen("herald:log")) <= 250, "the log trimmed", 10_000);
      await buses[1]!.close();
      assert.equal(await client.hLen("herald:readers"), 1, "a node that stops holds nothing back");
      assert.deepEqual(
        tails.flatMap((t) => t.gaps),
        [],
      );
    } finally {
      for (const bus of buses) await bus.close();
      client.destroy();
      await redis.stop();
    }
  });

  it("the log keeps history-size events before the oldest held, so a node that starts remembers the ids that left", async () => {
    // one entry per stream node: `XTRIM MINID ~` trims exactly
    const redis = await startRedis({ args: ["--stream-node-max-entries", "1"] });
    const client = createClient({ url: redis.url });
    const buses: RedisBus[] = [];
    const history = { maxEvents: 4, maxAgeMs: 0 };
    try {
      await client.connect();
      const a = new RedisBus({ url: redis.url, history });
      buses.push(a);
      await new Tail(a).start();
      for (let i = 1; i <= 12; i++) await a.append([{ topics: ["t"], data: `d${i}`, id: `e${i}` }]);
      // A holds e9..e12; e5..e8 are the last 4 to leave it: the log keeps them, and no more
      const oldestId = async () => {
        const [oldest] = await client.xRange("herald:log", "-", "+", { COUNT: 1 });
        return oldest?.message.id;
      };
      await eventually(async () => (await oldestId()) === "e5", "the log trimmed to e5", 10_000);
      // e6 is squatted (another scope); B starts after e6 left A's history
      await a.append([{ topics: ["t"], data: "squat", id: "e6", scope: "other" }]);
      const b = new RedisBus({ url: redis.url, history });
      buses.push(b);
      await new Tail(b).start();
      const replay = await b.replay("e6", 100);
      assert.deepEqual(
        replay.kind === "missed" && replay.reason,
        "unknown-id",
        `B resumes after the squat: ${JSON.stringify(replay)}`,
      );
    } finally {
      for (const bus of buses) await bus.close();
      client.destroy();
      await redis.stop();
    }
  });
});
