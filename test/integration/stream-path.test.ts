import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, publish, RawStream } from "../helpers/herald.ts";
import { until } from "../helpers/waiters.ts";
import { HUB, startMercureHerald } from "../mercure/helpers.ts";

/** The value of one sample line of the Prometheus text. */
function sample(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  assert.ok(line !== undefined, `no sample ${name} in /metrics`);
  return Number(line.slice(name.length + 1));
}

/**
 * Herald's `GET /events`, the seed's `GET /stream` and Mercure's subscribe open their streams the
 * same way (packages/herald/src/http/sse/open-stream.ts): what one of them did and another did not
 * before they shared it.
 */
describe("one stream path for Herald's API, the seed's and Mercure's", () => {
  let herald: Herald;
  before(async () => {
    herald = await startMercureHerald({ maxBufferedBytes: 64 * 1024, maxConnectionsPerIp: 2 });
  });
  after(() => herald.close());

  it("counts what a slow Mercure subscriber was not sent as dropped, as for Herald's streams", async () => {
    const slow = new RawStream(`${herald.url}${HUB}?topic=big`, {}, true);
    await slow.until(() => slow.status === 200);
    const chunk = "x".repeat(100_000);
    for (let i = 0; i < 300 && herald.hub.counters.slowDisconnects === 0; i++) {
      await publish(herald.url, { topic: "big", data: `${i} ${chunk}` });
    }
    const text = (await httpRequest(`${herald.url}/metrics`)).text;
    assert.equal(sample(text, "herald_slow_disconnects_total"), 1);
    assert.ok(sample(text, "herald_events_dropped_total") >= 1, "the dropped chunks are counted");
    slow.close();
    await until(() => herald.streamLimits.open === 0, "the slow stream's place to be given back");
  });

  it("counts Mercure streams among the open connections of /status and /metrics", async () => {
    const mercure = new RawStream(`${herald.url}${HUB}?topic=count`);
    const events = new RawStream(`${herald.url}/events?topic=count`);
    await mercure.opened();
    await events.opened();
    const status = (await httpRequest(`${herald.url}/status`)).body as { connections: number };
    assert.equal(status.connections, 2);
    assert.equal(sample((await httpRequest(`${herald.url}/metrics`)).text, "herald_connections"), 2);
    mercure.close();
    events.close();
    await until(() => herald.streamLimits.open === 0, "both places to be given back");
  });

  it("answers HEAD on every stream route without keeping a connection place", async () => {
    for (const path of ["/events?topic=h", "/stream", `${HUB}?topic=h`, "/events?topic=h", "/stream"]) {
      const head = await fetch(`${herald.url}${path}`, { method: "HEAD" });
      assert.equal(head.status, 200, `HEAD ${path}`);
      assert.match(head.headers.get("content-type") ?? "", /^text\/event-stream/);
    }
    assert.equal(herald.streamLimits.open, 0);
    const a = new RawStream(`${herald.url}/events?topic=h`);
    const b = new RawStream(`${herald.url}/stream`);
    await a.opened();
    await b.opened();
    a.close();
    b.close();
    await until(() => herald.streamLimits.open === 0, "both places to be given back");
  });
});
