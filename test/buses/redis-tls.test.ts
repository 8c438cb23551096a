import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { freePort, REDIS_BIN, type RedisServer, skipReason, startRedis } from "../helpers/brokers.ts";
import { type HeraldNode, startNode } from "../helpers/cluster.ts";
import {
  type ClusterGroup,
  type SentinelGroup,
  startRedisCluster,
  startSentinelGroup,
} from "../helpers/redis-ha.ts";
import { RecordingClient } from "../helpers/sse-client.ts";
import { makeCerts, redisTlsArgs, type TestCerts } from "../helpers/tls-certs.ts";
import { eventually } from "../helpers/waiters.ts";

/**
 * The TLS forms of the Redis bus against real redis-server processes that speak only TLS to Herald
 * (a throwaway CA made with openssl; Debian's redis-server is built with TLS): `rediss://` on a
 * TLS-only server, `rediss+sentinel://` on Sentinels and data nodes that name each other by
 * their TLS ports, and `rediss+cluster://` on a Redis Cluster whose bus runs over TLS (it names
 * its TLS ports to TLS clients). The server's certificate is checked: without `tls-ca=` (a CA Node does not
 * trust) Herald is not ready and says why.
 */

const skip = skipReason(REDIS_BIN, "redis-server");

async function publishAndDeliver(nodes: readonly HeraldNode[], data: string): Promise<void> {
  const streams = nodes.map((node) => new RecordingClient(`${node.url}/events?topic=t`));
  try {
    await Promise.all(streams.map((s) => s.opened()));
    const response = await fetch(`${nodes[0]!.url}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ topic: "t", data, id: data }),
    });
    assert.equal(response.status, 200, await response.text());
    for (const stream of streams) await stream.until(() => stream.datas().includes(data));
  } finally {
    for (const stream of streams) stream.close();
  }
}

// The tests run one after the other: run at once they started six Herald processes together
// (beside the 8 redis-servers of the before hook and the file npm test runs alongside), and on a
// loaded 2-core machine a node then took longer than startNode's 30 s to listen.
describe("the Redis bus over TLS (rediss://, rediss+sentinel://, tls-ca=)", { skip }, () => {
  let certs: TestCerts;
  let server: RedisServer;
  let group: SentinelGroup;
  let cluster: ClusterGroup;
  const nodes: HeraldNode[] = [];
  before(async () => {
    certs = makeCerts();
    // TLS only: the plain port is off (the later --port wins)
    const tlsPort = await freePort();
    [server, group, cluster] = await Promise.all([
      startRedis({
        port: tlsPort,
        args: ["--port", "0", "--tls-port", String(tlsPort), ...redisTlsArgs(certs)],
      }),
      startSentinelGroup({ replicas: 1, sentinels: 2, tls: certs }),
      startRedisCluster({ primaries: 3, replicasPer: 0, tls: certs }),
    ]);
  });
  after(async () => {
    for (const node of nodes) await node.kill("SIGKILL").catch(() => {});
    await server?.stop();
    await group?.stop();
    await cluster?.stop();
    certs?.remove();
  });
  const start = async (bus: string, waitReady = true) => {
    const node = await startNode(bus, [], waitReady);
    nodes.push(node);
    return node;
  };
  const ca = () => `tls-ca=${encodeURIComponent(certs.ca)}`;

  it("rediss:// with tls-ca=: ready, publishes and delivers", async () => {
    const node = await start(`rediss://127.0.0.1:${server.port}?${ca()}`);
    await publishAndDeliver([node], "over-tls");
  });

  it("rediss+sentinel:// with tls-ca=: two nodes publish and deliver through TLS Sentinels", async () => {
    const bus = `${group.url}?${ca()}&wait=1`;
    const [a, b] = await Promise.all([start(bus), start(bus)]);
    await publishAndDeliver([a!, b!], "sentinel-tls");
  });

  it("rediss+cluster:// with tls-ca=: two nodes publish and deliver through a TLS Redis Cluster", async () => {
    const bus = `${cluster.url}?${ca()}`;
    const [a, b] = await Promise.all([start(bus), start(bus)]);
    await publishAndDeliver([a!, b!], "cluster-tls");
  });

  it("without tls-ca= (a CA Node does not trust): not ready, saying the certificate was refused", async () => {
    const node = await start(`rediss://127.0.0.1:${server.port}`, false);
    let reason = "";
    await eventually(
      async () => {
        const response = await fetch(`${node.url}/readyz`);
        reason = ((await response.json()) as { reason?: string }).reason ?? "";
        return response.status === 503 && /certificate/.test(reason);
      },
      "a not-ready reason naming the certificate",
      20_000,
    );
    assert.match(reason, /Redis at 127\.0\.0\.1:\d+ is unreachable: .*self.signed certificate/);
  });
});
