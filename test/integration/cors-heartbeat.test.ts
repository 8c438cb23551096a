import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, publish, RawStream, startTestHerald } from "../helpers/herald.ts";

describe("heartbeats and CORS", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({ heartbeatMs: 100, corsOrigins: ["https://app.example"] });
  });
  after(() => herald.close());

  it("writes heartbeat comments on idle streams", async () => {
    const stream = new RawStream(`${herald.url}/events?topic=idle`);
    await stream.until(() => (stream.text.match(/: heartbeat\n\n/g) ?? []).length >= 2);
    stream.close();
  });

  it("writes none to a stream that receives events more often than the heartbeat", async () => {
    // a heartbeat of its own: 4 s (one check every 2 s); an event every ~100 ms for 5 s on `busy`:
    // only a pause of 2 s or more between two of its events (a stalled machine) would earn it one
    const busyHerald = await startTestHerald({ heartbeatMs: 4000 });
    const busy = new RawStream(`${busyHerald.url}/events?topic=busy`);
    const idle = new RawStream(`${busyHerald.url}/events?topic=quiet`);
    try {
      await Promise.all([busy.opened(), idle.opened()]);
      for (let i = 0; i < 50; i++) {
        await publish(busyHerald.url, { topic: "busy", data: String(i) });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await busy.until(() => busy.text.includes("data: 49\n"));
      const heartbeats = (stream: RawStream) => (stream.text.match(/: heartbeat\n\n/g) ?? []).length;
      // the quiet stream got its heartbeat within 4 s of opening (5 s have passed)
      assert.ok(heartbeats(idle) >= 1, `the idle stream got ${heartbeats(idle)} heartbeats in 5 s`);
      assert.equal(heartbeats(busy), 0, "a stream that keeps receiving events needs no heartbeat");
    } finally {
      busy.close();
      idle.close();
      await busyHerald.close();
    }
  });

  it("answers a preflight that carries Last-Event-ID for an allowed origin", async () => {
    const res = await httpRequest(`${herald.url}/events`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "GET",
        "access-control-request-headers": "last-event-id",
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers["access-control-allow-origin"], "https://app.example");
    assert.match(String(res.headers["access-control-allow-headers"]), /Last-Event-ID/);
    assert.equal(res.headers["access-control-allow-credentials"], "true");
  });

  it("gives no CORS headers to origins not in the allowlist", async () => {
    const res = await httpRequest(`${herald.url}/healthz`, { headers: { origin: "https://evil.example" } });
    assert.equal(res.headers["access-control-allow-origin"], undefined);
    const ok = await httpRequest(`${herald.url}/healthz`, { headers: { origin: "https://app.example" } });
    assert.equal(ok.headers["access-control-allow-origin"], "https://app.example");
  });

  it("allows any origin, without credentials, only when * is configured", async () => {
    const open = await startTestHerald({ corsOrigins: ["*"] });
    const res = await httpRequest(`${open.url}/healthz`, { headers: { origin: "https://x.example" } });
    assert.equal(res.headers["access-control-allow-origin"], "*");
    assert.equal(res.headers["access-control-allow-credentials"], undefined);
    await open.close();
  });
});
