import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { RedisBus } from "../../packages/herald/src/buses/redis.ts";
import { HeraldError } from "../../packages/herald/src/core/errors.ts";
import { REDIS_BIN, skipReason, startRedis } from "../helpers/brokers.ts";
import { type HeraldNode, startNode } from "../helpers/cluster.ts";
import { type SentinelGroup, startSentinelGroup } from "../helpers/redis-ha.ts";
import { RecordingClient } from "../helpers/sse-client.ts";
import { eventually } from "../helpers/waiters.ts";

/**
 * Sentinels that ask a password of their clients (`requirepass` in sentinel.conf), in front of data
 * nodes that ask none (real redis-server --sentinel processes): Herald gives the Sentinels their
 * own password (`sentinel-password=` on `redis+sentinel://`), publishes and delivers through them;
 * a wrong or missing one is reported as a refusal of the Sentinels, and no password is ever printed.
 */

const skip = skipReason(REDIS_BIN, "redis-server");

/** Characters that must survive percent-encoding: "+" (not a space), "@", "&", "=", "/". */
const PASSWORD = "Sntl+p@ss&=/7Qz";
const WRONG = "Wr0ngPw-4c1e";

async function publish(node: HeraldNode, data: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${node.url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ topic: "t", data, id: data }),
  });
  return { status: response.status, body: await response.text() };
}

async function readyz(node: HeraldNode): Promise<{ status: number; reason: string }> {
  const response = await fetch(`${node.url}/readyz`);
  const body = (await response.json()) as { reason?: string };
  return { status: response.status, reason: body.reason ?? "" };
}

/** Neither the password nor its percent-encoded form appears in `text`. */
function assertHidden(text: string, password: string, what: string): void {
  assert.ok(!text.includes(password), `${what} shows the password`);
  assert.ok(!text.includes(encodeURIComponent(password)), `${what} shows the encoded password`);
}

describe("Redis Sentinels that ask a password (sentinel-password=)", { skip, concurrency: true }, () => {
  let group: SentinelGroup;
  const nodes: HeraldNode[] = [];
  const clients: RecordingClient[] = [];
  before(async () => {
    group = await startSentinelGroup({ replicas: 1, sentinels: 3, sentinelPassword: PASSWORD });
  });
  after(async () => {
    for (const client of clients) client.close();
    for (const node of nodes) await node.kill("SIGKILL").catch(() => {});
    await group?.stop();
  });

  const start = async (query: string, waitReady: boolean) => {
    const node = await startNode(`${group.url}?${query}`, ["--log-level", "info"], waitReady);
    nodes.push(node);
    return node;
  };

  it("two nodes publish and deliver through them; the password is in no output", async () => {
    const query = `sentinel-password=${encodeURIComponent(PASSWORD)}&wait=1`;
    const [a, b] = await Promise.all([start(query, true), start(query, true)]);
    const streams = [a!, b!].map((node) => new RecordingClient(`${node.url}/events?topic=t`));
    clients.push(...streams);
    await Promise.all(streams.map((c) => c.opened()));
    for (const [node, data] of [
      [a!, "from-a"],
      [b!, "from-b"],
    ] as const) {
      const answer = await publish(node, data);
      assert.equal(answer.status, 200, answer.body);
    }
    for (const stream of streams) await stream.until(() => stream.datas().length === 2);
    for (const stream of streams) assert.deepEqual(stream.datas().sort(), ["from-a", "from-b"]);
    for (const node of [a!, b!]) {
      assert.match(node.output(), /sentinel-password=\*\*\*/, "the bus URL is logged, redacted");
      assertHidden(node.output(), PASSWORD, "Herald's output");
    }
  });

  it("a wrong password: not ready, and publishes refused, saying the Sentinels refused it and how to fix it", async () => {
    const node = await start(`sentinel-password=${WRONG}`, false);
    await eventually(
      async () => /refused/.test((await readyz(node)).reason),
      "a not-ready reason naming the refusal",
      20_000,
    );
    const { status, reason } = await readyz(node);
    assert.equal(status, 503);
    assert.match(
      reason,
      /the Redis Sentinels at 127\.0\.0\.1:\d+,.* refused Herald's credentials \(WRONGPASS/,
    );
    assert.match(reason, /check sentinel-password= .* in the redis\+sentinel:\/\/ URL/);
    const refused = await publish(node, "x");
    assert.equal(refused.status, 503);
    assert.match(refused.body, /Sentinels .* refused Herald's credentials/);
    await eventually(
      async () => /"level":"error".*refused Herald's credentials/.test(node.output()),
      "an error line in the log",
      10_000,
    );
    for (const text of [reason, refused.body, node.output()]) assertHidden(text, WRONG, "the refusal");
  });

  it("no password: not ready, saying the Sentinels ask for one and where to give it", async () => {
    const node = await start("wait=0", false);
    await eventually(
      async () => /refused/.test((await readyz(node)).reason),
      "a not-ready reason naming the refusal",
      20_000,
    );
    const { reason } = await readyz(node);
    assert.match(reason, /the Redis Sentinels at .* refused Herald's credentials \(NOAUTH/);
    assert.match(reason, /add sentinel-password=<their requirepass>/);
  });
});

describe("a Redis node that refuses the URL's password", { skip }, () => {
  it("is not ready and refuses publishes, saying to fix user:password@ (not 'unreachable')", async () => {
    const redis = await startRedis({ args: ["--requirepass", "right-one"] });
    const bus = new RedisBus({
      url: `redis://:${WRONG}@127.0.0.1:${redis.port}`,
      history: { maxEvents: 10, maxAgeMs: 0 },
      startWaitMs: 1000,
    });
    try {
      await bus.start(() => {});
      await eventually(async () => /refused/.test(bus.status().reason ?? ""), "a refusal", 10_000);
      const reason = bus.status().reason ?? "";
      assert.match(reason, /^Redis at 127\.0\.0\.1:\d+ refused Herald's credentials \(WRONGPASS/);
      assert.match(reason, /set the Redis nodes' user and password before the hosts/);
      assertHidden(reason, WRONG, "the reason");
      await assert.rejects(
        bus.append([{ topics: ["t"], data: "x" }]),
        (error: unknown) =>
          error instanceof HeraldError &&
          error.code === "unavailable" &&
          /refused Herald's credentials/.test(error.message) &&
          !error.message.includes(WRONG),
      );
    } finally {
      await bus.close();
      await redis.stop();
    }
  });

  it("no password at all: publishes answer 503 saying the node asks for one (not a 500)", async () => {
    const redis = await startRedis({ args: ["--requirepass", "right-one"] });
    const bus = new RedisBus({
      url: `redis://127.0.0.1:${redis.port}`,
      history: { maxEvents: 10, maxAgeMs: 0 },
      startWaitMs: 1000,
    });
    try {
      await bus.start(() => {});
      await assert.rejects(
        bus.append([{ topics: ["t"], data: "x" }]),
        (error: unknown) =>
          error instanceof HeraldError &&
          error.code === "unavailable" &&
          /refused Herald's credentials/.test(error.message),
      );
    } finally {
      await bus.close();
      await redis.stop();
    }
  });
});
