import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { Client, expectAllDelivered, type HeraldNode, publishTo, startNode } from "./cluster.ts";
import { eventually, until } from "./waiters.ts";

/**
 * The parts the Redis and RabbitMQ cluster suites share: three Herald processes on one broker, six
 * clients of "prices" (two per node), and the events acknowledged so far (every client must get
 * them all, once, in one order). Each suite keeps its own broker-specific tests.
 */
export interface ClusterFixture<B> {
  broker: B;
  nodes: HeraldNode[];
  readonly clients: Client[];
  readonly acked: string[];
}

/** Registers, in the calling `describe`, the `before`/`after` that start and stop the cluster. */
export function useCluster<B extends { readonly url: string; stop(): Promise<void> }>(
  startBroker: () => Promise<B>,
): ClusterFixture<B> {
  const fixture = { nodes: [], clients: [], acked: [] } as unknown as ClusterFixture<B>;
  before(async () => {
    fixture.broker = await startBroker();
    fixture.nodes = await Promise.all([0, 1, 2].map(() => startNode(fixture.broker.url)));
    for (let i = 0; i < 6; i++) fixture.clients.push(new Client(fixture.nodes, i % 3, "prices"));
    await Promise.all(fixture.clients.map((c) => c.open()));
  });
  after(async () => {
    for (const client of fixture.clients) client.close();
    for (const node of fixture.nodes) await node.kill("SIGTERM");
    await fixture.broker?.stop();
  });
  return fixture;
}

/** Publishes `count` events `<prefix><i>` to `node(i)`, each answered 2xx, and records them as acknowledged. */
async function publishAll(
  fixture: ClusterFixture<unknown>,
  prefix: string,
  count: number,
  node: (i: number) => HeraldNode,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const data = `${prefix}${i}`;
    assert.ok(await publishTo(node(i), "prices", data), "publish answered 2xx");
    fixture.acked.push(data);
  }
}

export function itDeliversEverywhere(fixture: ClusterFixture<unknown>): void {
  it("every subscriber on every node gets every event once, in one order", async () => {
    await publishAll(fixture, "a", 60, (i) => fixture.nodes[i % 3]!);
    await expectAllDelivered(fixture.clients, fixture.acked);
  });
}

export function itResumesAfterNodeKill(fixture: ClusterFixture<unknown>): void {
  it("a node killed with SIGKILL: its clients resume on another node with no gap", async () => {
    await fixture.nodes[0]!.kill("SIGKILL");
    await publishAll(fixture, "c", 30, (i) => fixture.nodes[1 + (i % 2)]!);
    await expectAllDelivered(fixture.clients, fixture.acked);
  });
}

/**
 * Starts a publisher of 150 events (refused ones retried), stops the broker with `stopBroker` once
 * 40 were acknowledged, and checks what a user sees while it is down: /readyz answers 503 naming
 * `brokerName`, a publish answers 503 with Retry-After. Resolves with the still-running publisher
 * (in an object: an async function would wait for a returned promise); the caller brings the broker
 * back, awaits it and checks delivery.
 */
export async function publishThroughOutage(
  fixture: ClusterFixture<unknown>,
  stopBroker: () => Promise<void>,
  brokerName: string,
): Promise<{ publisher: Promise<void> }> {
  const { acked, nodes } = fixture;
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
  await until(() => acked.length >= 60 + 40, "40 events acknowledged", 120_000);
  await stopBroker();
  await until(() => refused > 0, "a refused publish", 120_000);
  // the refused publish may have gone to another node: each node notices the outage on its own
  let readiness = "";
  await eventually(
    async () => {
      const ready = await fetch(`${nodes[0]!.url}/readyz`);
      readiness = `${ready.status} ${JSON.stringify(await ready.json())}`;
      return ready.status === 503;
    },
    `node 0 to answer 503 on /readyz while ${brokerName} is down`,
    10_000,
  );
  assert.match(readiness, new RegExp(brokerName));
  const refusal = await fetch(`${nodes[1]!.url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ topic: "prices", data: "refused" }),
  });
  assert.equal(refusal.status, 503);
  assert.ok(Number(refusal.headers.get("retry-after")) > 0, "Retry-After is set");
  return { publisher };
}
