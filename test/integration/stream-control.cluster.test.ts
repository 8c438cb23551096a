import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { REDIS_BIN, type RedisServer, skipReason, startRedis } from "../helpers/brokers.ts";
import { type HeraldNode, startNode } from "../helpers/cluster.ts";
import { publish, RawStream } from "../helpers/herald.ts";
import { type HeraldProcess, spawnWorkers, stopHerald } from "../helpers/process.ts";
import { ControlledClient, postJson, switchWhilePublishing } from "../helpers/stream-control.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";

describe("live subscription changes across 2 workers (memory bus)", () => {
  let herald: HeraldProcess;
  const clients: ControlledClient[] = [];
  before(async () => {
    herald = await spawnWorkers(2, { HERALD_JWT_SECRET: TEST_SECRET, HERALD_RETRY: "200ms" });
  });
  after(async () => {
    for (const client of clients) client.close();
    if (herald !== undefined) await stopHerald(herald);
  });

  it("switches topics a -> a+b -> b, requests on either worker: each event of the topics in effect once, in order", async () => {
    const client = new ControlledClient(`${herald.url}/events?topic=a`);
    clients.push(client);
    await switchWhilePublishing(client, [herald.url], (id) => `${herald.url}/streams/${id}/topics`);
  });

  it("matched=1: changes made through either worker write the new list where they take effect, and the indices follow it", async () => {
    const stream = new RawStream(`${herald.url}/events?announce=1&matched=1&topic=a&topic=b`);
    try {
      await stream.until(() => stream.text.includes('"topics":["a","b"]'));
      const id = (/"id":"([^"]+)"/.exec(stream.text) as RegExpExecArray)[1] as string;
      const send = (topic: string[], data: string) => publish(herald.url, { topic, data, id: data });
      // each request on a new connection: round robin puts them on both workers
      for (const [n, change] of [
        { add: ["c"] },
        { remove: ["a"] },
        { add: ["a"], remove: ["b"] },
      ].entries()) {
        await send(["a", "c"], `m${n}`);
        const answer = await postJson(`${herald.url}/streams/${id}/topics`, change);
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
      }
      await send(["a", "c"], "m3");
      await stream.until(() => stream.text.includes("data: m3"));
      const lines = stream.text
        .split("\n")
        .filter((l) => l.startsWith(": matched") || l.startsWith(": topics"));
      assert.deepEqual(lines, [
        ": matched 0",
        ': topics ["a","b","c"]',
        ": matched 0 2",
        ': topics ["b","c"]',
        ": matched 1",
        ': topics ["c","a"]',
        ": matched 0 1",
      ]);
    } finally {
      stream.close();
    }
  });
});

describe("live subscription changes, tickets and renewal across 2 nodes x 2 workers on Redis", {
  skip: skipReason(REDIS_BIN, "redis-server"),
}, () => {
  let redis: RedisServer;
  const nodes: HeraldNode[] = [];
  const clients: ControlledClient[] = [];
  before(async () => {
    redis = await startRedis();
    for (let i = 0; i < 2; i++) {
      nodes.push(await startNode(redis.url, ["--workers", "2", "--jwt-secret", TEST_SECRET]));
    }
  });
  after(async () => {
    for (const client of clients) client.close();
    for (const node of nodes) await node.kill("SIGTERM");
    await redis?.stop();
  });
  const open = (url: string, headers: Record<string, string> = {}) => {
    const client = new ControlledClient(url, headers);
    clients.push(client);
    return client;
  };

  it("a stream on node A switches topics through node B while both nodes publish: none lost, none twice", async () => {
    const [a, b] = nodes as [HeraldNode, HeraldNode];
    const token = await heraldToken({ subscribe: [] }, { subject: "erin", expiresInSec: 600 });
    const client = open(`${a.url}/events?topic=a`, bearer(token));
    await switchWhilePublishing(
      client,
      [a.url, b.url],
      (id) => `${b.url}/streams/${id}/topics`,
      bearer(token),
    );
    const { id } = client.info as { id: string };
    const stranger = await heraldToken({ subscribe: [] }, { subject: "erin", expiresInSec: 60 });
    assert.equal(
      (await postJson(`${b.url}/streams/${id}/topics`, { add: ["c"] }, bearer(stranger))).status,
      403,
    );
    // renewed through node B; then only the new token changes it
    const renewed = await postJson(`${b.url}/streams/${id}/token`, {}, bearer(stranger));
    assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
    assert.equal(
      (await postJson(`${b.url}/streams/${id}/topics`, { add: ["c"] }, bearer(token))).status,
      403,
    );
    assert.equal(
      (await postJson(`${b.url}/streams/${id}/topics`, { add: ["c"] }, bearer(stranger))).status,
      200,
    );
    client.close();
    const gone = async () =>
      (await postJson(`${b.url}/streams/${id}/topics`, { add: ["d"] }, bearer(stranger))).status;
    let status = await gone();
    for (let i = 0; i < 50 && status !== 404; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = await gone();
    }
    assert.equal(status, 404, "a closed stream is 404, on any node");
  });

  it("a ticket issued on node B opens one stream on node A, and no second one anywhere", async () => {
    const [a, b] = nodes as [HeraldNode, HeraldNode];
    const token = await heraldToken({ subscribe: ["p"] }, { subject: "frank", expiresInSec: 600 });
    const issued = await postJson(`${b.url}/tickets`, {}, bearer(token));
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    const ticket = encodeURIComponent(issued.body.ticket as string);
    const first = await fetch(`${a.url}/events?topic=p&ticket=${ticket}`);
    assert.equal(first.status, 200);
    await first.body?.cancel();
    for (const node of [a, b, a, b]) {
      const again = await fetch(`${node.url}/events?topic=p&ticket=${ticket}`);
      assert.equal(again.status, 401);
      assert.match(((await again.json()) as { message: string }).message, /used already/);
    }
  });
});
