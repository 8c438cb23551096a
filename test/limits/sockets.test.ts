import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { publish, startTestHerald } from "../helpers/herald.ts";
import { RawSocket } from "../helpers/raw-socket.ts";
import { until } from "../helpers/waiters.ts";

describe("raw sockets: idle and broken connections", () => {
  let herald: Herald;
  let port: number;
  const clients: RawSocket[] = [];
  const open = async (bytes?: string | Buffer) => {
    const client = new RawSocket(port);
    clients.push(client);
    await client.connected();
    if (bytes !== undefined) client.socket.write(bytes);
    return client;
  };
  /** Sockets the server holds open (file descriptors). */
  const serverSockets = () =>
    new Promise<number>((resolve, reject) =>
      herald.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
    );

  before(async () => {
    herald = await startTestHerald({ headersTimeoutMs: 1000, requestTimeoutMs: 2000 });
    port = Number(new URL(herald.url).port);
  });
  after(async () => {
    for (const client of clients) client.socket.destroy();
    await herald.close();
  });

  it("closes connections that never send a byte, or stop in the request line, after the headers timeout", async () => {
    const before = await serverSockets();
    const silent = await open();
    const partial = await open("GET /ev");
    const partialHeaders = await open("GET /events?topic=t HTTP/1.1\r\nHost: x\r\n");
    await until(
      () => silent.ended && partial.ended && partialHeaders.ended,
      "the server to end them",
      10_000,
    );
    for (const client of [silent, partial, partialHeaders]) {
      assert.match(client.text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    }
    // The server must let go of the sockets even though these clients never close their side.
    let now = -1;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      now = await serverSockets();
      if (now <= before) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(now, before, "the server closed every idle socket");
  });

  it("bytes pipelined behind GET /events never corrupt the stream", async () => {
    // A stream request followed, in the same packet, by bytes that are no HTTP request.
    const client = await open("GET /events?topic=pipe HTTP/1.1\r\nHost: x\r\n\r\nXYZ not http\r\n\r\n");
    await until(() => client.text.includes(": ok"), "the stream to open", 5000);
    const answer = await publish(herald.url, { topic: "pipe", data: "after", id: "pipe-1" });
    assert.equal(answer.status, 200, answer.text);
    await until(() => client.text.includes("id: pipe-1"), "the event on the stream", 5000);
    assert.equal(client.text.match(/HTTP\/1\.1 /g)?.length, 1, `one response only: ${client.text}`);
    assert.match(client.text, /^HTTP\/1\.1 200 OK\r\n/);
    // later bytes are ignored too
    client.socket.write("more garbage\r\n\r\n");
    const again = await publish(herald.url, { topic: "pipe", data: "later", id: "pipe-2" });
    assert.equal(again.status, 200, again.text);
    await until(() => client.text.includes("id: pipe-2"), "the next event on the stream", 5000);
    assert.equal(client.text.match(/HTTP\/1\.1 /g)?.length, 1, `one response only: ${client.text}`);
  });

  it("a publish followed by garbage is answered, then the connection closes", async () => {
    const body = JSON.stringify({ topic: "pipe", data: "x" });
    const client = await open(
      `POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}XYZ not http\r\n\r\n`,
    );
    await until(() => client.ended, "the server to end the connection", 5000);
    assert.match(client.text, /^HTTP\/1\.1 200 OK\r\n/, client.text);
    assert.equal(client.text.match(/HTTP\/1\.1 /g)?.length, 1, `one response only: ${client.text}`);
  });

  it("answers bytes that are no request (400, 408, 431) with a JSON message that says how to fix it", async () => {
    const cases: [string, string, number][] = [
      ["nothing sent", "", 408],
      ["a request line cut off", "GET /ev", 408],
      ["a publish head cut off (the lean path)", "POST /publish HTTP/1.1\r\nHost: x\r\n", 408],
      ["no HTTP", "XYZ not http\r\n\r\n", 400],
      ["a space in a header name", "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n", 400],
      [
        "Content-Length and Transfer-Encoding",
        "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
      ],
      [
        "headers over 16 KiB",
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
        431,
      ],
    ];
    const clients = await Promise.all(cases.map(([, bytes]) => open(bytes === "" ? undefined : bytes)));
    await until(() => clients.every((c) => c.ended), "the server to answer and end them all", 10_000);
    cases.forEach(([what, , status], i) => {
      const text = (clients[i] as RawSocket).text;
      const [head = "", body = ""] = text.split("\r\n\r\n");
      assert.match(head, new RegExp(`^HTTP/1\\.1 ${status} `), `${what}: ${text}`);
      assert.match(head, /\r\ncontent-type: application\/json; charset=utf-8\r\n/i, `${what}: ${text}`);
      const answer = JSON.parse(body) as { error: string; message: string };
      assert.equal(typeof answer.error, "string", `${what}: ${body}`);
      assert.ok(answer.message.length > 20, `${what}: a message that says what to do: ${body}`);
    });
  });
});
