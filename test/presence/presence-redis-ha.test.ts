import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createLink } from "../../packages/herald/src/buses/redis-link.ts";
import { parseRedisUrl } from "../../packages/herald/src/buses/redis-url.ts";
import { LEADER_KEY } from "../../packages/herald/src/presence/adapters/redis.ts";
import { freePort, REDIS_BIN, type RedisServer, skipReason, startRedis } from "../helpers/brokers.ts";
import { type HeraldNode, startNode } from "../helpers/cluster.ts";
import { httpRequest, RawStream } from "../helpers/herald.ts";
import {
  type ClusterGroup,
  redisCommand,
  type SentinelGroup,
  startRedisCluster,
  startSentinelGroup,
  waitFor,
} from "../helpers/redis-ha.ts";
import { makeCerts, redisTlsArgs, type TestCerts } from "../helpers/tls-certs.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";
import { eventually, until } from "../helpers/waiters.ts";
import { Receiver, SECRET } from "../helpers/webhook-receiver.ts";

/**
 * Presence and webhooks on the replicated Redis buses (docs/presence.md): two Herald nodes on
 * Sentinels (a primary, a replica), on a Redis Cluster over TLS (`rediss+cluster://` with
 * `tls-ca=`), and on one TLS-only Redis (`rediss://` with `tls-ca=`: presence used to ignore the
 * URL's parameters and never connected). Each join and leave, topic.occupied and topic.vacated is
 * announced once per cluster; after a Sentinel failover (the primary SIGKILLed) presence converges
 * again on both nodes and a new stream's join is announced.
 */

const skip = skipReason(REDIS_BIN, "redis-server");
const HEARTBEAT = "300ms";

interface Watched {
  readonly nodes: readonly [HeraldNode, HeraldNode];
  readonly receiver: Receiver;
  /** A node may lead: the lease key is held. */
  leaderHeld(): Promise<boolean>;
}

async function presenceOf(url: string, topic: string): Promise<{ count: number; subscribers: string[] }> {
  const token = await heraldToken({ subscribe: ["room/*"] });
  const answer = await httpRequest(`${url}/presence?topic=${encodeURIComponent(topic)}`, {
    headers: bearer(token),
  });
  assert.equal(answer.status, 200, answer.text);
  return answer.body as { count: number; subscribers: string[] };
}

async function openStream(node: HeraldNode, topic: string, sub: string): Promise<RawStream> {
  const stream = new RawStream(
    `${node.url}/events?topic=${encodeURIComponent(topic)}`,
    bearer(await heraldToken({}, { subject: sub })),
  );
  await stream.opened();
  return stream;
}

/** A stream of `$presence/<topic>` on `node`, and the join/leave events it got. */
async function watch(node: HeraldNode, topic: string) {
  const token = await heraldToken({ subscribe: ["$presence/room/*"] }, { subject: "watcher" });
  const stream = new RawStream(
    `${node.url}/events?topic=${encodeURIComponent(`$presence/${topic}`)}`,
    bearer(token),
  );
  await stream.opened();
  const events = (type: string) =>
    stream.text
      .split("\n")
      .filter((line) => line.startsWith("data: "))
      .map((line) => JSON.parse(line.slice(6)) as { type: string; sub: string })
      .filter((event) => event.type === type)
      .map((event) => event.sub)
      .sort();
  return { stream, events };
}

/** Three streams on two nodes come and go: each transition is announced once, by one node. */
async function oncePerCluster(watched: Watched, topic: string): Promise<void> {
  const { nodes, receiver } = watched;
  const [a, b] = nodes;
  await waitFor(() => watched.leaderHeld(), "a node to lead", 10_000);
  const watcher = await watch(a, topic);
  const streams: RawStream[] = [];
  try {
    streams.push(await openStream(a, topic, "ann"), await openStream(b, topic, "ben"));
    streams.push(await openStream(b, topic, "bea"));
    for (const node of nodes)
      await eventually(async () => (await presenceOf(node.url, topic)).count === 3, "3 counted", 10_000);
    await until(() => receiver.of("subscriber.connected", topic).length === 3, "3 connected", 10_000);
    await watcher.stream.until(() => watcher.events("join").length === 3, 10_000);
    for (const s of streams) s.close();
    await until(() => receiver.of("topic.vacated", topic).length >= 1, "topic.vacated", 10_000);
    await until(() => receiver.of("subscriber.disconnected", topic).length === 3, "3 disconnected", 10_000);
    await watcher.stream.until(() => watcher.events("leave").length === 3, 10_000);
    // a few heartbeats more: a late duplicate from the other node would arrive by now
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const all = JSON.stringify(receiver.deliveries);
    assert.equal(receiver.of("topic.occupied", topic).length, 1, all);
    assert.equal(receiver.of("topic.vacated", topic).length, 1, all);
    const subs = (type: string) =>
      receiver
        .of(type, topic)
        .map((d) => d.sub)
        .sort();
    assert.deepEqual(subs("subscriber.connected"), ["ann", "bea", "ben"], all);
    assert.deepEqual(subs("subscriber.disconnected"), ["ann", "bea", "ben"], all);
    assert.deepEqual(watcher.events("join"), ["ann", "bea", "ben"], watcher.stream.text);
    assert.deepEqual(watcher.events("leave"), ["ann", "bea", "ben"], watcher.stream.text);
    assert.equal(new Set(receiver.deliveries.map((d) => d.id)).size, receiver.deliveries.length);
  } finally {
    for (const s of streams) s.close();
    watcher.stream.close();
  }
}

describe("presence on Sentinel, a TLS Redis Cluster and a TLS Redis (tls-ca=)", { skip }, () => {
  let certs: TestCerts;
  let group: SentinelGroup;
  let cluster: ClusterGroup;
  let tlsRedis: RedisServer;
  const started: HeraldNode[] = [];
  const receivers: Receiver[] = [];
  let sentinelPair: Promise<Watched> | undefined;

  const startPair = async (bus: string, receiver?: Receiver) => {
    const args = ["--jwt-secret", TEST_SECRET, "--presence", "room/*", "--presence-heartbeat", HEARTBEAT];
    if (receiver !== undefined) args.push("--webhook-url", receiver.url, "--webhook-secret", SECRET);
    const pair = await Promise.allSettled([startNode(bus, args), startNode(bus, args)]);
    for (const node of pair) if (node.status === "fulfilled") started.push(node.value); // killed after
    return pair.map((node) => {
      if (node.status === "rejected") throw node.reason;
      return node.value;
    }) as [HeraldNode, HeraldNode];
  };
  const held = async (port: number) => Number(await redisCommand(port, ["EXISTS", LEADER_KEY])) === 1;
  const ca = () => `tls-ca=${encodeURIComponent(certs.ca)}`;
  /** Two nodes with webhooks on `bus`; `leaderPort`: the port of the lease key's primary now. */
  const watchedPair = async (bus: string, leaderPort: () => Promise<number>): Promise<Watched> => {
    const receiver = new Receiver();
    receivers.push(receiver);
    await receiver.start();
    const nodes = await startPair(bus, receiver);
    return { nodes, receiver, leaderHeld: async () => held(await leaderPort()) };
  };
  /** The Sentinel bus's two nodes, shared by its tests. */
  const onSentinel = () => {
    sentinelPair ??= watchedPair(`${group.url}?wait=1`, async () => (await group.primary()).port);
    return sentinelPair;
  };

  before(async () => {
    certs = makeCerts();
    // one after the other: each is kept as soon as it runs, so `after` stops it even when a later
    // one fails to start (with Promise.all the ones started were left running, and the file hung);
    // and starters running at once could pick the same free port
    group = await startSentinelGroup({ replicas: 1, sentinels: 3 });
    cluster = await startRedisCluster({ primaries: 3, replicasPer: 0, tls: certs });
    // TLS only: the plain port is off (the later --port wins)
    const tlsPort = await freePort();
    tlsRedis = await startRedis({
      port: tlsPort,
      args: ["--port", "0", "--tls-port", String(tlsPort), ...redisTlsArgs(certs)],
    });
  });

  after(async () => {
    for (const node of started) await node.kill("SIGKILL");
    for (const receiver of receivers) await receiver.close();
    await group?.stop();
    await cluster?.stop();
    await tlsRedis?.stop();
    certs?.remove();
  });

  it("rediss:// with tls-ca=: both nodes count each other's subscribers", async () => {
    const nodes = await startPair(`rediss://127.0.0.1:${tlsRedis.port}?${ca()}`);
    const [a, b] = nodes;
    const streams = [await openStream(a, "room/1", "ann"), await openStream(b, "room/1", "ben")];
    try {
      for (const node of nodes)
        await eventually(
          async () => (await presenceOf(node.url, "room/1")).subscribers.join() === "ann,ben",
          `ann and ben seen from ${node.url}`,
          10_000,
        );
    } finally {
      for (const s of streams) s.close();
    }
  });

  it("rediss+cluster:// with tls-ca=: each join, leave, occupied and vacated once per cluster", async () => {
    const watched = await watchedPair(
      `${cluster.url}?${ca()}`,
      async () => (await cluster.primaryOf(LEADER_KEY)).port,
    );
    await oncePerCluster(watched, "room/2");
  });

  it("redis+sentinel://: each join, leave, occupied and vacated once per cluster", async () => {
    await oncePerCluster(await onSentinel(), "room/3");
  });

  // Each of a node's Redis connections (presence's, the bus's writer and reader) moves to the new
  // primary on its own, a few hundred ms apart. A node whose presence connection moved first used to
  // take the lead while its bus could not store yet: the join it announced was refused ("nothing was
  // stored") and lost, in about 1 run in 4. A node now leads only while its bus can store.
  it("redis+sentinel://: after a failover (the primary SIGKILLed) presence converges and a new join is announced", async () => {
    const sentinel = await onSentinel();
    const [a, b] = sentinel.nodes;
    const { receiver } = sentinel;
    const streams = [await openStream(a, "room/4", "cara")];
    try {
      for (const node of sentinel.nodes)
        await eventually(
          async () => (await presenceOf(node.url, "room/4")).count === 1,
          "cara counted",
          10_000,
        );
      const old = await group.killPrimary();
      await group.failedOver(old);
      for (const node of sentinel.nodes)
        await eventually(
          async () => (await presenceOf(node.url, "room/4")).subscribers.join() === "cara",
          `cara seen again from ${node.url} after the failover`,
          20_000,
        );
      // (a lease taken by a claim run late on the new primary is given up at once: a held lease is
      // a node that leads)
      await waitFor(() => sentinel.leaderHeld(), "a node to lead on the new primary", 10_000);
      const watcher = await watch(a, "room/4");
      try {
        streams.push(await openStream(b, "room/4", "dan"));
        await watcher.stream.until(() => watcher.events("join").includes("dan"), 10_000);
        await until(
          () => receiver.of("subscriber.connected", "room/4").some((d) => d.sub === "dan"),
          "dan's subscriber.connected",
          10_000,
        );
        for (const node of sentinel.nodes)
          await eventually(
            async () => (await presenceOf(node.url, "room/4")).subscribers.join() === "cara,dan",
            `cara and dan seen from ${node.url}`,
            10_000,
          );
        await new Promise((resolve) => setTimeout(resolve, 1000)); // a duplicate would come by now
        assert.deepEqual(watcher.events("join"), ["dan"], watcher.stream.text);
        const dans = receiver.of("subscriber.connected", "room/4").filter((d) => d.sub === "dan");
        assert.equal(dans.length, 1, JSON.stringify(receiver.deliveries));
      } finally {
        watcher.stream.close();
      }
    } finally {
      for (const s of streams) s.close();
    }
  });

  // last: it kills a node of the Cluster (its slots stay uncovered: no replicas)
  it("rediss+cluster://: a link whose subscribed node is lost is not ready, and connect subscribes again elsewhere", async () => {
    const channel = "herald:test:resubscribe";
    const got: string[] = [];
    const link = createLink({
      target: parseRedisUrl(`${cluster.url}?${ca()}`),
      routeKey: LEADER_KEY,
      onError: () => {},
    });
    try {
      await link.connect();
      await link.subscribe(channel, (message) => got.push(message));
      assert.equal(link.ready, true);
      // the node it subscribed on (node-redis picks one at random), by its plain port
      const subscribers = async (port: number) =>
        ((await redisCommand(port, ["PUBSUB", "NUMSUB", channel])) as [string, number])[1];
      const counts = await Promise.all(cluster.servers.map((server) => subscribers(server.port)));
      const victim = cluster.servers[counts.indexOf(1)] as RedisServer;
      await victim.kill();
      await until(() => !link.ready, "the link not ready once its subscribed node is gone", 10_000);
      // a rebuild may pick the dead node again while the cluster still lists it: connect again
      await eventually(
        async () => {
          await link.connect().catch(() => undefined);
          return link.ready;
        },
        "the link subscribed again on a live node",
        20_000,
      );
      const live = cluster.servers.find((server) => server.pid !== undefined) as RedisServer;
      await redisCommand(live.port, ["PUBLISH", channel, "after"]);
      await until(() => got.includes("after"), "a message published after the loss", 5000);
      assert.deepEqual(got, ["after"]);
    } finally {
      link.close();
    }
  });
});
