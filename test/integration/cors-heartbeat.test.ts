import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, RawStream, startTestHerald } from "../helpers/herald.ts";

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
