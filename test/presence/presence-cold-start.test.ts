import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { REDIS_BIN, type RedisServer, skipReason, startRedis } from "../helpers/brokers.ts";
import { type HeraldNode, startNode } from "../helpers/cluster.ts";
import { RawStream } from "../helpers/herald.ts";
import { type HeraldProcess, spawnWorkers, stopHerald, workerPid } from "../helpers/process.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";
import { until } from "../helpers/waiters.ts";
import { Receiver, SECRET } from "../helpers/webhook-receiver.ts";

// The default --presence-heartbeat (5 s): nodes of a cluster warm up before one leads. A stream
// that comes in meanwhile (right after /readyz) must still get its topic.occupied and its join,
// once; they used to be dropped for good (the nodes consumed them before any of them led).
describe("presence right after a cluster starts (2 nodes on one redis-server, default heartbeat)", {
  skip: skipReason(REDIS_BIN, "redis-server"),
}, () => {
  let redis: RedisServer;
  const nodes: HeraldNode[] = [];
  const streams: RawStream[] = [];
  const receiver = new Receiver();
  before(async () => {
    await receiver.start();
    redis = await startRedis();
    const args = [
      ...["--jwt-secret", TEST_SECRET, "--presence", "room/*"],
      ...["--webhook-url", receiver.url, "--webhook-secret", SECRET],
    ];
    nodes.push(...(await Promise.all([startNode(redis.url, args), startNode(redis.url, args)])));
  });
  after(async () => {
    for (const s of streams) s.close();
    for (const node of nodes) await node.kill("SIGKILL");
    await redis?.stop();
    await receiver.close();
  });

  it("announces the first subscriber's topic.occupied and join once, though no node led yet", async () => {
    const [a, b] = nodes as [HeraldNode, HeraldNode];
    const watcher = new RawStream(
      `${b.url}/events?topic=${encodeURIComponent("$presence/room/1")}`,
      bearer(await heraldToken({ subscribe: ["$presence/*"] })),
    );
    streams.push(watcher);
    await watcher.opened();
    const alice = new RawStream(
      `${a.url}/events?topic=room/1`,
      bearer(await heraldToken({}, { subject: "alice" })),
    );
    streams.push(alice);
    await alice.opened();
    await until(() => receiver.of("topic.occupied", "room/1").length >= 1, "topic.occupied", 15_000);
    await watcher.until(() => watcher.text.includes('"type":"join"'), 15_000);
    assert.match(watcher.text, /data: \{"type":"join","topic":"room\/1","sub":"alice"\}/);

    alice.close();
    await until(() => receiver.of("topic.vacated", "room/1").length >= 1, "topic.vacated", 15_000);
    await watcher.until(() => watcher.text.includes('"type":"leave"'), 15_000);
    assert.equal(receiver.of("topic.occupied", "room/1").length, 1, JSON.stringify(receiver.deliveries));
    assert.equal(receiver.of("topic.vacated", "room/1").length, 1, JSON.stringify(receiver.deliveries));
    assert.equal(watcher.text.match(/"type":"join"/g)?.length, 1, watcher.text);
    assert.deepEqual(receiver.rejected, []);
  });
});

// The replacement of a crashed worker 0 (the leader of --workers) warms up while worker 1 has been
// running for long: what it counts then was announced already, it must not announce it again.
describe("presence when the leading worker of --workers 2 is SIGKILLed", () => {
  let herald: HeraldProcess;
  const streams: RawStream[] = [];
  const receiver = new Receiver();
  before(async () => {
    await receiver.start();
    herald = await spawnWorkers(2, {
      HERALD_JWT_SECRET: TEST_SECRET,
      HERALD_PRESENCE: "room/*",
      HERALD_PRESENCE_HEARTBEAT: "300ms",
      HERALD_WEBHOOK_URL: receiver.url,
      HERALD_WEBHOOK_SECRET: SECRET,
    });
  });
  after(async () => {
    for (const s of streams) s.close();
    await stopHerald(herald);
    await receiver.close();
  });

  // Worker 0 led or not, it is replaced while worker 1 holds the topic, then worker 1 dies right
  // after the replacement started. That vacated was missed in about 1 run in 3: the replacement
  // of worker 1 could lead (a random node id lower than the other's) though it never heard of the
  // topic, while the replacement of worker 0, which did, computed the vacated and did not lead. The
  // eldest node leads now (node ids sort by start time).
  it("its replacement announces no topic.occupied again; the last stream's end is vacated once", async () => {
    // fresh connections: round robin spreads them over both workers
    for (const sub of ["w1", "w2", "w3", "w4"]) {
      const token = await heraldToken({}, { subject: sub });
      const stream = new RawStream(`${herald.url}/events?topic=room/1`, {
        ...bearer(token),
        connection: "close",
      });
      streams.push(stream);
      await stream.opened();
    }
    await until(() => receiver.of("topic.occupied", "room/1").length === 1, "topic.occupied", 10_000);
    for (const index of [0, 1]) {
      await until(() => workerPid(herald, index) !== undefined, `worker ${index} listening`);
      const pid = workerPid(herald, index) as number;
      process.kill(pid, "SIGKILL");
      await until(() => ![undefined, pid].includes(workerPid(herald, index)), `worker ${index} replaced`);
    }
    // vacated comes from the replacement of worker 0, once warm: a second occupied would be before
    await until(() => receiver.of("topic.vacated", "room/1").length === 1, "topic.vacated", 10_000);
    const topicEvents = receiver.deliveries.filter((d) => d.type.startsWith("topic.")).map((d) => d.type);
    assert.deepEqual(topicEvents, ["topic.occupied", "topic.vacated"]);
  });
});

// Both workers of --workers 2 SIGKILLed at once: no worker is left that heard their streams. The
// primary, which relays every presence message, tells each replacement the counts the dead workers
// had (within their TTL); the replacements forget them when the others would have, and one of them
// announces the topic vacated, once. (Nothing was sent before: no process knew the topic was held.)
describe("presence when both workers of --workers 2 are SIGKILLed at once", () => {
  let herald: HeraldProcess;
  const streams: RawStream[] = [];
  const receiver = new Receiver();
  before(async () => {
    await receiver.start();
    herald = await spawnWorkers(2, {
      HERALD_JWT_SECRET: TEST_SECRET,
      HERALD_PRESENCE: "room/*",
      // a TTL (3 heartbeats, 6 s) longer than a replacement takes to start on a busy machine
      HERALD_PRESENCE_HEARTBEAT: "2s",
      HERALD_WEBHOOK_URL: receiver.url,
      HERALD_WEBHOOK_SECRET: SECRET,
    });
  });
  after(async () => {
    for (const s of streams) s.close();
    await stopHerald(herald);
    await receiver.close();
  });

  it("a replacement announces the topic vacated once; no topic.occupied again", async () => {
    for (const sub of ["k1", "k2", "k3", "k4"]) {
      const token = await heraldToken({}, { subject: sub });
      const stream = new RawStream(`${herald.url}/events?topic=room/2`, {
        ...bearer(token),
        connection: "close",
      });
      streams.push(stream);
      await stream.opened();
    }
    await until(() => receiver.of("topic.occupied", "room/2").length === 1, "topic.occupied", 15_000);
    const pids = [0, 1].map((index) => workerPid(herald, index) as number);
    for (const pid of pids) process.kill(pid, "SIGKILL");
    for (const [index, pid] of pids.entries()) {
      await until(() => ![undefined, pid].includes(workerPid(herald, index)), `worker ${index} replaced`);
    }
    await until(() => receiver.of("topic.vacated", "room/2").length >= 1, "topic.vacated", 20_000);
    await stopHerald(herald); // every webhook sent: the whole history is checked
    const topicEvents = receiver.deliveries.filter((d) => d.type.startsWith("topic.")).map((d) => d.type);
    assert.deepEqual(topicEvents, ["topic.occupied", "topic.vacated"]);
  });
});
