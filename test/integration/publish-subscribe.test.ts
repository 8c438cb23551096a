import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, publish, RawStream, startTestHerald } from "../helpers/herald.ts";
import { RecordingClient } from "../helpers/sse-client.ts";

describe("publish and subscribe over HTTP", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({ retryMs: 100 });
  });
  after(() => herald.close());

  it("sends SSE headers, an opening comment and a retry hint at once", async () => {
    const stream = new RawStream(`${herald.url}/events?topic=h`);
    await stream.opened();
    assert.equal(stream.status, 200);
    assert.equal(stream.headers["content-type"], "text/event-stream; charset=utf-8");
    assert.equal(stream.headers["cache-control"], "no-cache");
    assert.equal(stream.headers["x-accel-buffering"], "no");
    assert.equal(stream.text, ": ok\n\nretry: 100\n\n");
    stream.close();
  });

  it("delivers a published event to an eventsource client with id, type and JSON data", async () => {
    const client = new RecordingClient(`${herald.url}/events?topic=news`, ["message", "headline"]);
    await client.opened();
    const res = await publish(herald.url, { topic: "news", event: "headline", data: { title: "up" } });
    assert.equal(res.status, 200);
    const body = res.body as { id: string; queued: number };
    assert.equal(body.queued, 1);
    await client.until(() => client.events.length === 1);
    assert.deepEqual(client.events[0], { type: "headline", data: '{"title":"up"}', id: body.id });
    client.close();
  });

  it("sends string data as is, with every line break arriving as LF and leading spaces kept", async () => {
    const client = new RecordingClient(`${herald.url}/events?topic=text`);
    await client.opened();
    const text = " one\r\ntwo\rthree\n  four\n\nend ";
    await publish(herald.url, { topic: "text", data: text });
    await publish(herald.url, { topic: "text", data: "<b>not json</b>" });
    await client.until(() => client.events.length === 2);
    assert.deepEqual(client.datas(), [" one\ntwo\nthree\n  four\n\nend ", "<b>not json</b>"]);
    client.close();
  });

  it("streams every topic of a subscription and events published to several topics once", async () => {
    const client = new RecordingClient(`${herald.url}/events?topic=a&topic=b`);
    await client.opened();
    await publish(herald.url, { topic: "a", data: "1" });
    await publish(herald.url, { topic: "c", data: "not mine" });
    await publish(herald.url, { topic: ["a", "b"], data: "2" });
    await publish(herald.url, { topic: ["c", "b"], data: "3" });
    await client.until(() => client.events.length >= 3);
    await publish(herald.url, { topic: "b", data: "4" });
    await client.until(() => client.events.length >= 4);
    assert.deepEqual(client.datas(), ["1", "2", "3", "4"]);
    client.close();
  });

  it("gives increasing unique ids and treats a publish with a held id as a retry", async () => {
    const client = new RecordingClient(`${herald.url}/events?topic=retry`);
    await client.opened();
    const first = await publish(herald.url, { topic: "retry", data: "once", id: "order-1" });
    const again = await publish(herald.url, { topic: "retry", data: "once", id: "order-1" });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, first.body);
    const a = (await publish(herald.url, { topic: "retry", data: "x" })).body as { id: string };
    const b = (await publish(herald.url, { topic: "retry", data: "y" })).body as { id: string };
    assert.notEqual(a.id, b.id);
    assert.ok(Number(a.id.split("-")[1]) < Number(b.id.split("-")[1]));
    await client.until(() => client.events.length === 3);
    assert.deepEqual(client.datas(), ["once", "x", "y"]);
    client.close();
  });

  it("refuses topics under /.well-known/mercure, where only the hub publishes subscription events", async () => {
    for (const topic of [
      "/.well-known/mercure/subscriptions/a/b",
      "https://x.example/.well-known/mercure/x",
    ]) {
      const res = await publish(herald.url, { topic, data: "forged" });
      assert.equal(res.status, 403);
      assert.match((res.body as { message: string }).message, /only the hub publishes/);
    }
  });

  it("answers health and readiness", async () => {
    assert.equal((await httpRequest(`${herald.url}/healthz`)).status, 200);
    const ready = await httpRequest(`${herald.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { ready: true });
  });
});
