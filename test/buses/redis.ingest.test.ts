import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createClient } from "redis";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { REDIS_BIN, type RedisServer, skipReason, startRedis } from "../helpers/brokers.ts";
import { publish, RawStream, startTestHerald } from "../helpers/herald.ts";

describe("ingest: a producer XADDs straight to Redis", {
  skip: skipReason(REDIS_BIN, "redis-server"),
}, () => {
  let redis: RedisServer;
  let herald: Herald;
  before(async () => {
    redis = await startRedis();
    herald = await startTestHerald({ bus: redis.url, privateTopics: ["secret/*"] });
  });
  after(async () => {
    await herald?.close();
    await redis?.stop();
  });

  it("delivers the documented fields like an HTTP publish; invalid entries and repeated ids are skipped", async () => {
    const stream = new RawStream(`${herald.url}/events?topic=prices/*`);
    await stream.opened();
    const producer = createClient({ url: redis.url });
    await producer.connect();
    await producer.sendCommand(["XADD", "herald:log", "*", "topic", "prices/EURUSD", "data", "no id"]);
    await producer.sendCommand([
      "XADD",
      "herald:log",
      "*",
      "topic",
      "prices/EURUSD",
      "event",
      "x\ny",
      "data",
      "bad",
    ]);
    await producer.sendCommand(["XADD", "herald:log", "*", "topic", "prices/EURUSD"]);
    const fields = ["topic", "prices/EURUSD", "event", "price", "id", "tick-1", "data", '{"bid":1.08}'];
    await producer.sendCommand(["XADD", "herald:log", "MAXLEN", "~", "10000", "*", ...fields]);
    await producer.sendCommand(["XADD", "herald:log", "*", ...fields]);
    await producer.sendCommand(["XADD", "herald:log", "*", "topics", '["a","prices/GBPUSD"]', "data", "two"]);
    await stream.until(() => stream.text.includes("data: two"));
    const events = stream.text.split("\n\n").filter((block) => block.includes("data: "));
    assert.equal(events.length, 3, stream.text);
    assert.match(events[0]!, /^id: [0-9a-z]+-\d+\ndata: no id$/m);
    assert.equal(events[1]!.trim(), 'id: tick-1\nevent: price\ndata: {"bid":1.08}');
    assert.doesNotMatch(stream.text, /^data: bad$/m);
    // ids are deduplicated per publisher: an HTTP publish with the id a producer wrote is another
    // publisher's event, stored and delivered (the producer cannot squat HTTP publishers' ids)
    const other = await publish(herald.url, { topic: "prices/EURUSD", id: "tick-1", data: "again" });
    assert.equal(other.status, 200);
    assert.equal((other.body as { id: string }).id, "tick-1");
    await publish(herald.url, { topic: "prices/EURUSD", data: "last" });
    await stream.until(() => stream.text.includes("data: last"));
    assert.match(stream.text, /id: tick-1\ndata: again\n/);
    producer.destroy();
    stream.close();
  });

  it("an event a producer writes on a private topic stays private (HERALD_PRIVATE_TOPICS)", async () => {
    const stream = new RawStream(`${herald.url}/events?topic=secret/x&topic=open`);
    await stream.opened();
    const producer = createClient({ url: redis.url });
    await producer.connect();
    await producer.sendCommand(["XADD", "herald:log", "*", "topic", "secret/x", "data", "hidden"]);
    await producer.sendCommand(["XADD", "herald:log", "*", "topic", "open", "data", "visible"]);
    producer.destroy();
    await stream.until(() => stream.text.includes("data: visible"));
    assert.doesNotMatch(stream.text, /hidden/);
    stream.close();
  });

  it("a flushed Redis is a lost log: streams end, and an old id answers herald.missed epoch-changed", async () => {
    const stream = new RawStream(`${herald.url}/events?topic=flush`);
    await stream.opened();
    const before = await publish(herald.url, { topic: "flush", data: "before" });
    const oldId = (before.body as { id: string }).id;
    await stream.until(() => stream.text.includes("data: before"));
    const admin = createClient({ url: redis.url });
    await admin.connect();
    await admin.flushAll();
    admin.destroy();
    await stream.until(() => stream.closed);
    const resumed = new RawStream(`${herald.url}/events?topic=flush`, { "last-event-id": oldId });
    await resumed.until(() => resumed.text.includes("event: herald.missed"));
    assert.match(resumed.text, /"reason":"epoch-changed"/);
    const after = await publish(herald.url, { topic: "flush", data: "after" });
    assert.equal(after.status, 200);
    assert.notEqual((after.body as { id: string }).id.split("-")[0], oldId.split("-")[0]);
    await resumed.until(() => resumed.text.includes("data: after"));
    resumed.close();
  });

  it("history survives a restart of the node: a client resumes with its Last-Event-ID", async () => {
    const first = await publish(herald.url, { topic: "restart", data: "one" });
    await publish(herald.url, { topic: "restart", data: "two" });
    await herald.close();
    herald = await startTestHerald({ bus: redis.url });
    const resumed = new RawStream(`${herald.url}/events?topic=restart`, {
      "last-event-id": (first.body as { id: string }).id,
    });
    await resumed.until(() => resumed.text.includes("data: two"));
    assert.doesNotMatch(resumed.text, /data: one|herald\.missed/);
    resumed.close();
  });
});
