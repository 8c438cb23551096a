import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { REDIS_BIN, type RedisServer, skipReason, startRedis } from "../helpers/brokers.ts";
import { httpRequest, publish, RawStream } from "../helpers/herald.ts";
import { type HeraldProcess, spawnHerald, stopHerald } from "../helpers/process.ts";

/**
 * docs/streams.md: "A record takes no place in the history (HERALD_HISTORY_SIZE) ... anyone may
 * cause records (a refused ticket, a change of an anonymous stream), and they must not push
 * anyone's events out." docs/buses.md: a node that starts loads the newest events from the log,
 * and a client that was on node A can resume on node B.
 * Attack: anonymous refused tickets flood the Redis log with control records; a node started
 * after the flood must still hold the events for replay.
 */
const skip = skipReason(REDIS_BIN, "redis-server");
describe("control records on Redis do not push events out of a starting node's history", { skip }, () => {
  let redis: RedisServer;
  const nodes: HeraldProcess[] = [];
  const closers: (() => void)[] = [];
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const close of closers) close();
    for (const node of nodes) await stopHerald(node);
    await redis?.stop();
  });

  it("a node started after a flood of refused tickets replays the events before it", async () => {
    const env = { HERALD_BUS: redis.url, HERALD_HISTORY_SIZE: "20" };
    const a = await spawnHerald([], env);
    nodes.push(a);
    const first = (await publish(a.url, { topic: "h", data: "one" })).body as { id: string };
    await publish(a.url, { topic: "h", data: "two" });
    for (let i = 0; i < 40; i++) {
      assert.equal((await httpRequest(`${a.url}/events?topic=h&ticket=forged${i}`)).status, 401);
    }
    const b = await spawnHerald([], env);
    nodes.push(b);
    const resumed = new RawStream(`${b.url}/events?topic=h`, { "last-event-id": first.id });
    closers.push(() => resumed.close());
    await resumed.until(() => resumed.text.includes("data: two") || resumed.text.includes("herald.missed"));
    assert.doesNotMatch(resumed.text, /herald\.missed/);
    assert.match(resumed.text, /data: two/);
  });
});
