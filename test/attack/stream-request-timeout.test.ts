import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, startTestHerald } from "../helpers/herald.ts";
import { RawSocket } from "../helpers/raw-socket.ts";
import { until } from "../helpers/waiters.ts";

/**
 * docs/limits.md (slow-loris): "A stream is not affected: its request is complete once its
 * headers are in." Found in an attack round (2026-12-03): a GET /events that announced a body it
 * never finished was answered with a stream, then cut at HERALD_REQUEST_TIMEOUT and counted as
 * `client-closed`. A stream request carries no body: it is refused (400, JSON, saying so) before
 * any stream opens or any slot is taken, on Herald's API and on Mercure's.
 */
describe("attack: a stream request that announces a body", () => {
  let herald: Herald;
  let port: number;
  const clients: RawSocket[] = [];

  before(async () => {
    herald = await startTestHerald({ headersTimeoutMs: 200, requestTimeoutMs: 500, maxConnectionsPerIp: 2 });
    port = Number(new URL(herald.url).port);
  });
  after(async () => {
    for (const client of clients) client.socket.destroy();
    await herald.close();
  });

  for (const [name, path, head] of [
    ["an unfinished chunked body", "/events?topic=body", "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"],
    ["a Content-Length body not all sent", "/events?topic=body", "Content-Length: 100\r\n\r\nabc"],
    ["a Mercure GET with a body", "/.well-known/mercure?match=body", "Content-Length: 100\r\n\r\nabc"],
  ] as const) {
    it(`is refused with a 400 that says a stream request carries no body (${name})`, async () => {
      const socket = new RawSocket(port);
      clients.push(socket);
      await socket.connected();
      socket.send(`GET ${path} HTTP/1.1\r\nHost: x\r\n${head}`);
      await until(() => socket.text.includes("\r\n\r\n{"), "an answer");
      assert.match(socket.text, /^HTTP\/1\.1 400 /);
      assert.match(socket.text, /a stream request carries no body/);
      assert.doesNotMatch(socket.text, /: ok/);
    });
  }

  it("leaves every stream slot free (2 per IP here: two streams still open)", async () => {
    const a = new RawSocket(port);
    const b = new RawSocket(port);
    clients.push(a, b);
    await Promise.all([a.connected(), b.connected()]);
    for (const s of [a, b]) s.send("GET /events?topic=body HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => a.text.includes(": ok") && b.text.includes(": ok"), "both streams to open");
    const status = (await httpRequest(`${herald.url}/status`)).body as { connections: number };
    assert.equal(status.connections, 2);
  });
});
