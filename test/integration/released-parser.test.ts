import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { publish, startTestHerald } from "../helpers/herald.ts";
import { until, Waiters } from "../helpers/waiters.ts";

/** A raw-socket SSE client: sees exactly what the server sends and when the connection ends. */
class SocketStream {
  text = "";
  ended = false;
  closed = false;
  readonly socket: Socket;
  private readonly waiters = new Waiters();

  constructor(herald: Herald, path: string) {
    const { hostname, port } = new URL(herald.url);
    this.socket = connect(Number(port), hostname, () => {
      this.socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`);
    });
    this.socket.setEncoding("utf8");
    this.socket.on("data", (chunk: string) => {
      this.text += chunk;
      this.waiters.check();
    });
    this.socket.on("end", () => {
      this.ended = true;
      this.waiters.check();
    });
    this.socket.on("close", () => {
      this.closed = true;
      this.waiters.check();
    });
    this.socket.on("error", () => {});
  }

  until(test: () => boolean, ms = 5000): Promise<void> {
    return this.waiters.wait(test, ms, () => `timed out; stream so far: ${this.text.slice(-500)}`);
  }
}

// node:http's parser is handed back once a stream runs (src/server/parser-release.ts): the stream
// must behave exactly as before.
describe("streams after their HTTP parser is released", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald();
  });
  after(() => herald.close());

  it("ignore bytes the client sends after its request and keep delivering", async () => {
    const stream = new SocketStream(herald, "/events?topic=rp1");
    await stream.until(() => stream.text.includes(": ok\n"));
    assert.equal((await publish(herald.url, { topic: "rp1", id: "a", data: "one" })).status, 200);
    await stream.until(() => stream.text.includes("data: one\n"));
    // a request pipelined behind an endless stream, then junk: neither is answered nor breaks the stream
    stream.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n\x00\x01 not http at all\r\n\r\n");
    assert.equal((await publish(herald.url, { topic: "rp1", id: "b", data: "two" })).status, 200);
    await stream.until(() => stream.text.includes("data: two\n"));
    assert.equal(stream.text.match(/HTTP\/1\.1 /g)?.length, 1);
    assert.equal(stream.closed, false);
    stream.socket.destroy();
    await stream.until(() => stream.closed);
  });

  it("end when the client half-closes, leaving nothing behind", async () => {
    const stream = new SocketStream(herald, "/events?topic=rp2");
    await stream.until(() => stream.text.includes(": ok\n"));
    assert.equal((await publish(herald.url, { topic: "rp2", data: "x" })).status, 200);
    await stream.until(() => stream.text.includes("data: x\n"));
    stream.socket.end(); // FIN: the server ends its side too, as node:http does
    await stream.until(() => stream.closed);
    await until(() => herald.connections.size === 0, "the server to count the stream closed");
    assert.equal(herald.hub.subscriberCount, 0);
    assert.equal(herald.hub.indexSize, 0);
  });

  it("close their connection after the server ends them (shutdown)", async () => {
    const own = await startTestHerald();
    const streams = [new SocketStream(own, "/events?topic=rp3"), new SocketStream(own, "/events?topic=rp3")];
    for (const stream of streams) await stream.until(() => stream.text.includes(": ok\n"));
    assert.equal((await publish(own.url, { topic: "rp3", id: "c", data: "last" })).status, 200);
    for (const stream of streams) await stream.until(() => stream.text.includes("data: last\n"));
    await own.close();
    for (const stream of streams) {
      await stream.until(() => stream.ended);
      assert.match(stream.text, /data: last\n\n\r\n0\r\n\r\n$/); // the chunked stream's proper end
    }
  });
});
