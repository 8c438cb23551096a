import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { EventSource } from "eventsource";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, publish, RawStream, startTestHerald } from "../helpers/herald.ts";

/**
 * Batched fan-out over real HTTP: many events published at once (batch requests and concurrent
 * single publishes, so several land in one event-loop turn) reach every stream in bus order, each
 * exactly once, while a paused reader is still cut off at its buffer bound.
 */
describe("batched fan-out over HTTP", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({ maxBufferedBytes: 256 * 1024 });
  });
  after(() => herald.close());

  const eventually = async (test: () => boolean) => {
    for (let i = 0; i < 2000 && !test(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(test());
  };
  const posOf = (id: string) => Number(id.slice(id.lastIndexOf("-") + 1));

  it("keeps order, loses nothing, duplicates nothing, and still cuts off a slow reader", async () => {
    const one = new RawStream(`${herald.url}/events?topic=room/1`);
    const two = new RawStream(`${herald.url}/events?topic=room/1&topic=room/2`);
    const all = new RawStream(`${herald.url}/events?topic=room/*`);
    const slow = new RawStream(`${herald.url}/events?topic=room/1`, {}, true);
    after(() => slow.close());
    await Promise.all([one.opened(), two.opened(), all.opened()]);
    await slow.until(() => slow.status === 200);

    const big = "x".repeat(32 * 1024);
    const published: { id: string; topics: string[] }[] = [];
    for (let round = 0; round < 12; round++) {
      const events = Array.from({ length: 20 }, (_, i) => ({
        topic: i % 3 === 0 ? ["room/1", "room/2"] : i % 3 === 1 ? "room/1" : "room/2",
        data: `${round}/${i} ${big}`,
      }));
      const singles = Array.from({ length: 10 }, (_, i) => ({
        topic: "room/1",
        data: `single ${round}/${i}`,
      }));
      const [batch, ...answers] = await Promise.all([
        httpRequest(`${herald.url}/publish/batch`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ events }),
        }),
        ...singles.map((s) => publish(herald.url, s)),
      ]);
      assert.equal(batch!.status, 200, batch!.text);
      const results = (batch!.body as { results: { id: string; queued: number }[] }).results;
      assert.equal(results.length, events.length);
      results.forEach((r, i) => {
        const t = events[i]!.topic;
        published.push({ id: r.id, topics: Array.isArray(t) ? t : [t] });
      });
      for (const answer of answers) {
        assert.equal(answer.status, 200, answer.text);
        published.push({ id: (answer.body as { id: string }).id, topics: ["room/1"] });
      }
    }
    published.sort((a, b) => posOf(a.id) - posOf(b.id));
    const want = (topic?: string) =>
      published.filter((p) => topic === undefined || p.topics.includes(topic)).map((p) => p.id);

    await one.until(() => one.ids().length >= want("room/1").length, 20_000);
    await all.until(() => all.ids().length >= published.length, 20_000);
    await two.until(() => two.ids().length >= published.length, 20_000);
    assert.deepEqual(one.ids(), want("room/1"));
    assert.deepEqual(two.ids(), want(), "an event on both topics arrives once");
    assert.deepEqual(all.ids(), want());

    // the paused reader was cut off by the server (it never read, so it cannot see it itself)
    await eventually(() => herald.hub.counters.slowDisconnects >= 1);
    assert.equal(herald.hub.subscriberCount, 3);
    for (const s of [one, two, all]) s.close();
  });

  it("a batch arrives intact at the eventsource client (multi-line data, event types, ids)", async () => {
    const source = new EventSource(`${herald.url}/events?topic=es`);
    const got: { type: string; id: string; data: string }[] = [];
    const opened = new Promise<void>((resolve) => {
      source.onopen = () => resolve();
    });
    const record = (event: MessageEvent) =>
      got.push({ type: event.type, id: event.lastEventId, data: event.data });
    source.addEventListener("message", record);
    source.addEventListener("note", record);
    await opened;
    const events = [
      { topic: "es", data: "one" },
      { topic: "es", event: "note", data: "two\nlines" },
      { topic: "es", data: { three: 3 } },
    ];
    const answer = await httpRequest(`${herald.url}/publish/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ events }),
    });
    const ids = (answer.body as { results: { id: string }[] }).results.map((r) => r.id);
    await eventually(() => got.length >= 3);
    source.close();
    assert.deepEqual(got, [
      { type: "message", id: ids[0], data: "one" },
      { type: "note", id: ids[1], data: "two\nlines" },
      { type: "message", id: ids[2], data: '{"three":3}' },
    ]);
  });

  it("refuses a bad batch with 400 naming the event, and stores nothing", async () => {
    const before = herald.hub.counters.published;
    const answer = await httpRequest(`${herald.url}/publish/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        events: [
          { topic: "a", data: "ok" },
          { topic: "", data: "bad" },
        ],
      }),
    });
    assert.equal(answer.status, 400);
    assert.match((answer.body as { message: string }).message, /events\[1\]/);
    const empty = await httpRequest(`${herald.url}/publish/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ events: [] }),
    });
    assert.equal(empty.status, 400);
    assert.equal(herald.hub.counters.published, before);
  });

  it("refuses a batch of more than 10,000 events with 413 naming the limit, and stores nothing", async () => {
    const before = herald.hub.counters.published;
    const events = (n: number) => Array.from({ length: n }, (_, i) => ({ topic: "many", data: `${i}` }));
    const over = await httpRequest(`${herald.url}/publish/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ events: events(10_001) }),
    });
    assert.equal(over.status, 413, over.text);
    assert.match(
      (over.body as { message: string }).message,
      /10001 events; the limit is 10000: split the batch/,
    );
    assert.equal(herald.hub.counters.published, before);
    const at = await httpRequest(`${herald.url}/publish/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ events: events(10_000) }),
    });
    assert.equal(at.status, 200, at.text);
    assert.equal(herald.hub.counters.published, before + 10_000);
  });
});
