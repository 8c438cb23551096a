import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { publish, startTestHerald } from "../helpers/herald.ts";
import { RawSocket } from "../helpers/raw-socket.ts";
import { until } from "../helpers/waiters.ts";

/**
 * docs/limits.md: "Connection limits count event streams (GET /events, GET /stream) ... a refused
 * stream holds no slot"; docs/concepts.md: "A closed stream leaves nothing behind: no listener, no
 * timer, no map entry"; docs/metrics.md: `herald_connections` is the open SSE streams.
 * A client that pipelines a second stream request behind its first and then closes the
 * connection must leave nothing open: no slot of HERALD_MAX_CONNECTIONS_PER_IP, no subscriber.
 */
describe("attack: a stream request pipelined behind a stream", () => {
  let herald: Herald;
  let port: number;
  const clients: RawSocket[] = [];
  const PER_IP = 5;
  const open = async (bytes: string) => {
    const client = new RawSocket(port);
    clients.push(client);
    await client.connected();
    client.send(bytes);
    return client;
  };
  const openStreams = async () => {
    const response = await fetch(`${herald.url}/status`);
    return ((await response.json()) as { connections: number }).connections;
  };
  const streamRequest = (topic: string) => `GET /events?topic=${topic} HTTP/1.1\r\nHost: x\r\n\r\n`;

  before(async () => {
    herald = await startTestHerald({ maxConnectionsPerIp: PER_IP });
    port = Number(new URL(herald.url).port);
  });
  after(async () => {
    for (const client of clients) client.socket.destroy();
    await herald.close();
  });

  it("leaves no stream open, and no slot taken, once the connection is closed", async () => {
    for (let i = 0; i < PER_IP; i++) {
      const client = await open(streamRequest("first") + streamRequest("second"));
      await until(() => client.text.includes(": ok"), "the first stream to open");
      client.socket.destroy();
      await until(() => client.socket.destroyed, "the socket to close");
    }
    // the server sees the closes: every stream of those connections must end
    let now = -1;
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      now = await openStreams();
      if (now === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(now, 0, "no stream is left open after the client closed every connection");

    // and this IP gets its streams back: PER_IP new streams open, and receive events
    const streams: RawSocket[] = [];
    for (let i = 0; i < PER_IP; i++) streams.push(await open(streamRequest("after")));
    await until(
      () => streams.every((s) => /^HTTP\/1\.1 \d{3}/.test(s.text)),
      "every new stream to be answered",
    );
    for (const stream of streams) {
      assert.match(
        stream.text,
        /^HTTP\/1\.1 200 /,
        `a new stream opens; got ${JSON.stringify(stream.text.slice(0, 300))}`,
      );
    }
    assert.equal((await publish(herald.url, { topic: "after", data: "back" })).status, 200);
    await until(
      () => streams.every((s) => s.text.includes("data: back")),
      "the new streams to receive the event",
    );
  });
});
