import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { REDIS_BIN, type RedisServer, skipReason, startRedis } from "../helpers/brokers.ts";
import { type HeraldNode, startNode } from "../helpers/cluster.ts";
import { httpRequest } from "../helpers/herald.ts";
import { type HeraldProcess, spawnWorkers, stopHerald } from "../helpers/process.ts";

/**
 * test/attack/batch-hub-form-id-unnamed.test.ts on the buses whose epoch the route learns from
 * elsewhere (`Bus.currentEpoch`): a `--workers 2` worker (from the primary's turns) and the Redis
 * bus (from the broker). A batch event whose id has the form of the log's ids (`<epoch>-99`) is
 * refused 400 naming it (`events[1]: ...`, docs/http-api.md) before the batch takes its other
 * N - 1 publishes: it costs one, as any malformed request (docs/limits.md).
 */
async function checkHubFormId(url: string): Promise<void> {
  const post = (path: string, body: unknown) =>
    httpRequest(`${url}${path}`, {
      method: "POST",
      // one connection each: with --workers the requests spread over both workers
      headers: { "content-type": "application/json", connection: "close" },
      body: JSON.stringify(body),
    });
  const first = await post("/publish", { topic: "t", data: "first" }); // 9 left
  assert.equal(first.status, 200, first.text);
  const epoch = (first.body as { id: string }).id.split("-")[0] as string;
  const events = Array.from({ length: 8 }, (_, i) => ({ topic: "t", data: i }));
  for (let i = 0; i < 2; i++) {
    // twice: with --workers each worker gets one
    const refused = await post("/publish/batch", {
      events: [events[0], { ...events[1], id: `${epoch}-99` }, ...events.slice(2)],
    });
    assert.equal(refused.status, 400, refused.text);
    assert.match((refused.body as { message: string }).message, /^events\[1\]: "id" /, refused.text);
  }
  // 7 left (plus what refilled): each refused batch cost one, not 8
  const statuses: number[] = [];
  for (let i = 0; i < 7; i++) statuses.push((await post("/publish", { topic: "t", data: i })).status);
  assert.deepEqual(
    statuses,
    Array(7).fill(200),
    "a batch refused as invalid costs one publish (docs/limits.md)",
  );
}

describe("a batch event with a hub-form id, --workers 2", () => {
  let herald: HeraldProcess;
  before(async () => {
    herald = await spawnWorkers(2, { HERALD_PUBLISH_RATE: "1", HERALD_PUBLISH_BURST: "10" });
  });
  after(async () => {
    await stopHerald(herald);
  });

  it("is refused 400 naming events[1], and the batch costs one publish", async () => {
    await checkHubFormId(herald.url);
  });
});

describe("a batch event with a hub-form id, Redis bus", {
  skip: skipReason(REDIS_BIN, "redis-server"),
}, () => {
  let redis: RedisServer;
  let node: HeraldNode;
  before(async () => {
    redis = await startRedis();
    node = await startNode(redis.url, ["--publish-rate", "1", "--publish-burst", "10"]);
  });
  after(async () => {
    await node?.kill("SIGTERM");
    await redis?.stop();
  });

  it("is refused 400 naming events[1], and the batch costs one publish", async () => {
    await checkHubFormId(node.url);
  });
});
