import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { useRawHerald } from "../helpers/raw-herald.ts";
import { until } from "../helpers/waiters.ts";

/**
 * Publishes pipelined on one connection are applied in the order they were sent (RFC 9112 9.3.2:
 * only safe requests may be processed in parallel; Herald's lean path serves "one request at a
 * time per connection (pipelined requests wait, so answers keep their order)", and
 * docs/performance.md says handing a connection to node:http "changes no answer" and publishes the
 * same events). A publisher pipelining [batch, publish, batch, publish, ...] must see its events
 * stored, and delivered, in that order, whichever path its connection is on. Here the first
 * request is chunked, so the connection is served by node:http.
 */
describe("attack: pipelined publishes on one connection keep their order", () => {
  const { open } = useRawHerald();

  const single = (data: string) => {
    const body = JSON.stringify({ topic: "order", data });
    return `POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
  };
  const batch = (data: string) => {
    const body = JSON.stringify({ events: [{ topic: "order", data }] });
    return `POST /publish/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  };

  it("a pipelined batch is not overtaken by the publishes sent after it", async () => {
    const subscriber = await open("GET /events?topic=order HTTP/1.1\r\nHost: x\r\n\r\n");
    await until(() => subscriber.text.includes(": ok"), "the subscriber's stream to open");
    const count = 30;
    const sent = Array.from({ length: count }, (_, i) => `e${i}`);
    const publisher = await open(sent.map((data, i) => (i % 2 === 0 ? single(data) : batch(data))).join(""));
    await until(
      () => (publisher.text.match(/HTTP\/1\.1 200 /g) ?? []).length === count,
      "every pipelined publish to be answered 200",
    );
    await until(
      () => (subscriber.text.match(/\ndata: /g) ?? []).length >= count,
      "the subscriber to receive every event",
    );
    const received = [...subscriber.text.matchAll(/\ndata: ([^\n]+)/g)].map((m) => m[1]);
    assert.deepEqual(received, sent, "events are stored and delivered in the order they were pipelined");
  });
});
