import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { loadConfig } from "../../packages/herald/src/config/settings.ts";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { publish as sdkPublish, subscribe } from "../../packages/herald-client/src/index.ts";
import { httpRequest, publish, RawStream, startTestHerald } from "../helpers/herald.ts";
import { spawnHerald } from "../helpers/process.ts";
import { until } from "../helpers/waiters.ts";

/** The value of one sample line of the Prometheus text, e.g. `herald_connections` or `x{reason="slow"}`. */
function sample(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  assert.ok(line !== undefined, `no sample ${name} in /metrics`);
  return Number(line.slice(name.length + 1));
}

describe("GET /metrics and GET /status", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({ maxBufferedBytes: 64 * 1024 });
  });
  after(() => herald.close());

  test("count connections, subscriptions, published/delivered/replayed events, missed signals, history", async () => {
    const a = subscribe({ url: herald.url, topics: ["m1", "m2"], onEvent: () => {} });
    const b = subscribe({ url: herald.url, topics: "m1", onEvent: () => {} });
    await until(() => a.state === "open" && b.state === "open", "both open");
    const first = await sdkPublish({ url: herald.url, topic: "m1", data: 1 });
    await sdkPublish({ url: herald.url, topic: "m2", data: 2 });
    const replay = new RawStream(`${herald.url}/events?topic=m1&topic=m2`, { "last-event-id": first.id });
    const missed = new RawStream(`${herald.url}/events?topic=m1`, { "last-event-id": "nope" });
    await replay.until(() => replay.ids().length === 1);
    await missed.until(() => missed.text.includes("herald.missed"));

    const metrics = await httpRequest(`${herald.url}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(String(metrics.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
    const text = metrics.text;
    assert.equal(sample(text, "herald_connections"), 4);
    assert.equal(sample(text, "herald_subscriptions"), 6);
    assert.equal(sample(text, "herald_events_published_total"), 2);
    assert.equal(sample(text, "herald_events_delivered_total"), 3);
    assert.equal(sample(text, "herald_events_replayed_total"), 1);
    assert.equal(sample(text, "herald_missed_signals_total"), 1);
    assert.equal(sample(text, "herald_history_size"), 2);
    assert.equal(sample(text, "herald_bus_lag_seconds"), 0);
    assert.equal(sample(text, "herald_connections_opened_total"), 4);
    assert.ok(sample(text, "process_resident_memory_bytes") > 0, "process figures are there");
    assert.ok(!/topic="/.test(text), "no label per topic");

    const status = await httpRequest(`${herald.url}/status`);
    assert.equal(status.status, 200);
    const body = status.body as Record<string, unknown>;
    assert.equal(body.connections, 4);
    assert.equal(body.published, 2);
    assert.equal(body.delivered, 3);
    assert.equal(typeof body.time, "number");

    a.close();
    b.close();
    replay.close();
    missed.close();
    await until(() => herald.connections.size === 0, "every stream closed");
    const closed = (await httpRequest(`${herald.url}/metrics`)).text;
    assert.equal(sample(closed, "herald_connections"), 0);
    assert.equal(sample(closed, 'herald_connections_closed_total{reason="client-closed"}'), 4);
  });

  test("a slow client cut off shows in slow disconnects and dropped events", async () => {
    const slow = new RawStream(`${herald.url}/events?topic=big`, {}, true);
    await slow.until(() => slow.status === 200);
    const chunk = "x".repeat(100_000);
    for (let i = 0; i < 300 && herald.hub.counters.slowDisconnects === 0; i++) {
      await publish(herald.url, { topic: "big", data: `${i} ${chunk}` });
    }
    const text = (await httpRequest(`${herald.url}/metrics`)).text;
    assert.equal(sample(text, "herald_slow_disconnects_total"), 1);
    assert.equal(sample(text, 'herald_connections_closed_total{reason="slow"}'), 1);
    assert.ok(sample(text, "herald_events_dropped_total") >= 1);
    slow.close();
  });
});

describe("per-topic metrics", () => {
  test("only the topics listed in HERALD_METRICS_TOPICS get a `topic` label", async () => {
    const herald = await startTestHerald({ metricsTopics: ["orders"] });
    try {
      await publish(herald.url, { topic: "orders", data: "1" });
      await publish(herald.url, { topic: ["orders", "audit"], data: "2" });
      await publish(herald.url, { topic: "user/42", data: "3" });
      const text = (await httpRequest(`${herald.url}/metrics`)).text;
      assert.equal(sample(text, 'herald_topic_events_published_total{topic="orders"}'), 2);
      assert.deepEqual(text.match(/topic="[^"]*"/g), ['topic="orders"']);
    } finally {
      await herald.close();
    }
  });
});

describe("the demo feed", () => {
  test("HERALD_DEMO / --demo is a boolean setting, off by default", () => {
    assert.equal(loadConfig({}, {}).demo, false);
    assert.equal(loadConfig({ demo: "true" }, {}).demo, true);
    assert.equal(loadConfig({}, { HERALD_DEMO: "1" }).demo, true);
    assert.throws(() => loadConfig({}, { HERALD_DEMO: "maybe" }), /HERALD_DEMO.*true or false/);
  });

  test("`herald --demo` (a flag with no value) starts the feed", async () => {
    const herald = await spawnHerald(["--demo"]);
    try {
      const sub = subscribe<{ symbol: string }>({ url: herald.url, topics: "prices" });
      for await (const { data } of sub) {
        assert.equal(typeof data.symbol, "string");
        break;
      }
      assert.match(herald.output(), /demo feed on/);
    } finally {
      herald.child.kill("SIGTERM");
      await herald.exited;
    }
  });

  test("with --workers 2 only one worker runs the feed (each tick is published once)", async () => {
    const herald = await spawnHerald(["--demo", "--workers", "2"]);
    try {
      const sub = subscribe<{ symbol: string }>({ url: herald.url, topics: "prices" });
      for await (const { data } of sub) {
        assert.equal(typeof data.symbol, "string");
        break;
      }
      // Both workers have logged that they listen; exactly one started the feed.
      const deadline = Date.now() + 10_000;
      while ((herald.output().match(/Herald listening/g) ?? []).length < 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal((herald.output().match(/Herald listening/g) ?? []).length, 2);
      assert.equal((herald.output().match(/demo feed on/g) ?? []).length, 1);
    } finally {
      herald.child.kill("SIGTERM");
      await herald.exited;
    }
  });

  test("with demo on, price ticks flow on topic `prices`", async () => {
    const herald = await startTestHerald({ demo: true });
    try {
      const sub = subscribe<{ message: string; symbol: string; price: number }>({
        url: herald.url,
        topics: "prices",
      });
      for await (const { data } of sub) {
        assert.equal(typeof data.symbol, "string");
        assert.ok(data.price > 0);
        assert.match(data.message, /^[A-Z]+ \d+\.\d\d \([+-]\d+\.\d\d\)$/);
        break;
      }
    } finally {
      await herald.close();
    }
  });
});
