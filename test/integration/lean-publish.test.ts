import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { RawStream, startTestHerald } from "../helpers/herald.ts";
import { until } from "../helpers/waiters.ts";

/**
 * The publish routes' lean path (packages/herald/src/http/lean-front.ts) answers as node:http does:
 * seen from a raw socket, the same answers, in order, on keep-alive and pipelined connections, with
 * every other request (and every doubtful one) served by node:http on the same connection.
 */

/** An HTTP/1.1 client on one raw socket: sends bytes as given, splits the answers it gets. */
class RawHttp {
  text = "";
  ended = false;
  readonly socket: Socket;

  constructor(port: number) {
    this.socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    this.socket.setEncoding("latin1");
    this.socket.on("data", (chunk: string) => {
      this.text += chunk;
    });
    this.socket.on("end", () => {
      this.ended = true;
    });
    this.socket.on("close", () => {
      this.ended = true;
    });
    this.socket.on("error", () => {});
  }

  send(bytes: string): void {
    this.socket.write(bytes);
  }

  /** The complete answers so far (Content-Length bodies, or chunked ones), in order. */
  answers(): { status: number; headers: Record<string, string>; body: string }[] {
    const out: { status: number; headers: Record<string, string>; body: string }[] = [];
    let at = 0;
    for (;;) {
      const end = this.text.indexOf("\r\n\r\n", at);
      if (end === -1) return out;
      const lines = this.text.slice(at, end).split("\r\n");
      const status = Number((lines[0] as string).split(" ")[1]);
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      let body = "";
      let next = end + 4;
      if (headers["content-length"] !== undefined) {
        next = end + 4 + Number(headers["content-length"]);
        if (this.text.length < next) return out;
        body = this.text.slice(end + 4, next);
      } else if (headers["transfer-encoding"] === "chunked") {
        const last = this.text.indexOf("0\r\n\r\n", end + 4);
        if (last === -1) return out;
        next = last + 5;
        body = this.text.slice(end + 4, next);
      }
      out.push({ status, headers, body });
      at = next;
    }
  }

  async until(count: number): Promise<ReturnType<RawHttp["answers"]>> {
    await until(
      () => this.answers().length >= count,
      `${count} answers; so far: ${this.text.slice(-400)}`,
      10_000,
    );
    return this.answers();
  }
}

const post = (path: string, body: string, extra = "") =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
const event = (topic: string, data: string) => JSON.stringify({ topic, data });
const posOf = (answer: { body: string }) => {
  const id = (JSON.parse(answer.body) as { id: string }).id;
  return Number(id.slice(id.lastIndexOf("-") + 1));
};

describe("the publish routes' lean path, seen from a raw socket", () => {
  let herald: Herald;
  let port: number;
  const sockets: RawHttp[] = [];
  const open = () => {
    const client = new RawHttp(port);
    sockets.push(client);
    return client;
  };

  before(async () => {
    herald = await startTestHerald({
      headersTimeoutMs: 1000,
      requestTimeoutMs: 1500,
      corsOrigins: ["https://app.example"],
    });
    port = Number(new URL(herald.url).port);
  });
  after(async () => {
    for (const client of sockets) client.socket.destroy();
    await herald.close();
  });

  it("answers keep-alive and pipelined publishes in order, each event delivered once, in order", async () => {
    const stream = new RawStream(`${herald.url}/events?topic=lean-order`);
    await stream.opened();
    const client = open();
    for (let i = 0; i < 5; i++) {
      client.send(post("/publish", event("lean-order", `one-by-one ${i}`)));
      await client.until(i + 1);
    }
    // 40 requests in one write, the last ones a batch
    let burst = "";
    for (let i = 0; i < 38; i++) burst += post("/publish", event("lean-order", `pipelined ${i}`));
    burst += post("/publish/batch", JSON.stringify({ events: [{ topic: "lean-order", data: "b0" }] }));
    burst += post("/publish", event("lean-order", "last"));
    client.send(burst);
    const answers = await client.until(45);
    assert.deepEqual(
      answers.map((a) => a.status),
      answers.map(() => 200),
    );
    const single = answers.filter((_, i) => i !== 43);
    const positions = single.map(posOf);
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
      "answers in request order",
    );
    await stream.until(() => stream.ids().length >= 45);
    const data = [...stream.text.matchAll(/^data: (.*)$/gm)].map((m) => m[1]);
    assert.deepEqual(data, [
      ...Array.from({ length: 5 }, (_, i) => `one-by-one ${i}`),
      ...Array.from({ length: 38 }, (_, i) => `pipelined ${i}`),
      "b0",
      "last",
    ]);
    assert.equal(answers[0]?.headers.connection, "keep-alive");
    assert.equal(client.ended, false, "the connection stays open");
    stream.close();
  });

  it("answers a request that comes in pieces (head split, body later) as one in a single piece", async () => {
    const stream = new RawStream(`${herald.url}/events?topic=lean-pieces`);
    await stream.opened();
    const client = open();
    const bytes = post("/publish", event("lean-pieces", "in pieces"));
    const cuts = [0, 3, 14, 40, bytes.length - 10, bytes.length];
    for (let i = 1; i < cuts.length; i++) {
      assert.equal(client.answers().length, 0, "no answer before the whole request is in");
      client.send(bytes.slice(cuts[i - 1], cuts[i]));
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    const [answer] = await client.until(1);
    assert.equal(answer?.status, 200, answer?.body);
    await stream.until(() => stream.text.includes("data: in pieces\n"));
    stream.close();
  });

  it("serves other routes and requests it does not take (chunked, Expect, HTTP/1.0) through node:http, in order", async () => {
    const stream = new RawStream(`${herald.url}/events?topic=lean-mixed`);
    await stream.opened();
    const client = open();
    const chunkedBody = event("lean-mixed", "chunked");
    client.send(post("/publish", event("lean-mixed", "lean 1")));
    await client.until(1);
    client.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    await client.until(2);
    client.send(
      `POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunkedBody.length.toString(16)}\r\n${chunkedBody}\r\n0\r\n\r\n`,
    );
    await client.until(3);
    client.send(post("/publish", event("lean-mixed", "lean 2")));
    const answers = await client.until(4);
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200],
    );
    assert.deepEqual(JSON.parse(answers[1]?.body ?? ""), { status: "ok" });

    // Expect: 100-continue (node:http answers 100 first), and an HTTP/1.0 request, each on its own connection
    const expecting = open();
    expecting.send(post("/publish", event("lean-mixed", "expect"), "Expect: 100-continue\r\n"));
    await until(() => /HTTP\/1\.1 200/.test(expecting.text), "the answer after 100 Continue", 10_000);
    assert.match(expecting.text, /^HTTP\/1\.1 100 Continue\r\n/);
    const old = open();
    const body = event("lean-mixed", "http/1.0");
    old.send(
      `POST /publish HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    await until(() => old.ended, "the HTTP/1.0 connection to close", 10_000);
    assert.match(old.text, /^HTTP\/1\.1 200 OK\r\n/);
    await stream.until(() => stream.ids().length >= 5);
    const data = [...stream.text.matchAll(/^data: (.*)$/gm)].map((m) => m[1]);
    assert.deepEqual(data, ["lean 1", "chunked", "lean 2", "expect", "http/1.0"]);
    stream.close();
  });

  it("leaves doubtful requests to node:http: duplicate Content-Length or Transfer-Encoding with it get 400, nothing is published", async () => {
    const stream = new RawStream(`${herald.url}/events?topic=lean-smuggle`);
    await stream.opened();
    const body = event("lean-smuggle", "smuggled");
    for (const extra of [
      `Content-Length: ${body.length}\r\n`,
      "Transfer-Encoding: chunked\r\n",
      "Bad Header: x\r\n",
    ]) {
      const client = open();
      client.send(post("/publish", body, extra));
      await until(() => client.ended, `the connection to close (${extra.trim()})`, 10_000);
      assert.match(client.text, /^HTTP\/1\.1 400 Bad Request\r\n/, `${extra.trim()}: ${client.text}`);
    }
    // a later publish on the topic is the first event the stream sees
    const client = open();
    client.send(post("/publish", event("lean-smuggle", "clean")));
    await client.until(1);
    await stream.until(() => stream.ids().length >= 1);
    assert.doesNotMatch(stream.text, /smuggled/);
    stream.close();
  });

  it("answers with node:http's headers, errors as JSON on a connection that stays usable, and honours Connection: close", async () => {
    const client = open();
    client.send(post("/publish", '{"topic": "lean-errors", "data": '));
    client.send(post("/publish", event("lean-errors", "fine"), "Origin: https://app.example\r\n"));
    const [bad, good] = await client.until(2);
    assert.equal(bad?.status, 400);
    assert.equal((JSON.parse(bad?.body ?? "") as { error: string }).error, "bad_request");
    assert.equal(good?.status, 200);
    assert.deepEqual(Object.keys(good?.headers ?? {}).sort(), [
      "access-control-allow-credentials",
      "access-control-allow-origin",
      "access-control-expose-headers",
      "cache-control",
      "connection",
      "content-length",
      "content-type",
      "date",
      "keep-alive",
      "vary",
    ]);
    assert.equal(good?.headers["access-control-allow-origin"], "https://app.example");
    assert.equal(good?.headers["content-type"], "application/json; charset=utf-8");
    assert.match(good?.headers.date ?? "", /GMT$/);

    client.send(post("/publish", event("lean-errors", "bye"), "Connection: close\r\n"));
    const answers = await client.until(3);
    assert.equal(answers[2]?.headers.connection, "close");
    await until(() => client.ended, "the server to close the connection", 10_000);
  });

  it("times out a head or a body that does not come (408), closes idle keep-alive connections, publishes nothing cut off", async () => {
    const stream = new RawStream(`${herald.url}/events?topic=lean-slow`);
    await stream.opened();
    const slowHead = open();
    slowHead.send("POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n");
    const slowBody = open();
    const body = event("lean-slow", "never complete");
    slowBody.send(post("/publish", body).slice(0, -5));
    const gone = open();
    gone.send(post("/publish", event("lean-slow", "client left")).slice(0, -5));
    await new Promise((resolve) => setTimeout(resolve, 50));
    gone.socket.destroy();
    await until(() => slowHead.ended && slowBody.ended, "both slow requests to be cut off", 10_000);
    assert.match(slowHead.text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.match(slowBody.text, /^HTTP\/1\.1 408 Request Timeout\r\n/);

    herald.server.keepAliveTimeout = 200;
    const idle = open();
    idle.send(post("/publish", event("lean-slow", "then idle")));
    await idle.until(1);
    await until(() => idle.ended, "the idle connection to close", 10_000);
    herald.server.keepAliveTimeout = 5000;
    await stream.until(() => stream.ids().length >= 1);
    const data = [...stream.text.matchAll(/^data: (.*)$/gm)].map((m) => m[1]);
    assert.deepEqual(data, ["then idle"]);
    stream.close();
  });
});
