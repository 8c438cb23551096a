import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import { Backoff, type HeraldMessage, subscribe } from "../../packages/herald-client/src/index.ts";

// Multibyte characters (2, 3 and 4 UTF-8 bytes), every kind of line ending, a comment, `retry:`,
// a leading space kept in data, JSON and non-JSON data.
const STREAM =
  ": ok\n\nretry: 3000\n\nid: 1\ndata: héllo wörld 😀 漢字\n\n" +
  "id: 2\nevent: note\ndata: line 1\r\ndata:  two spaces\r\n\r\n" +
  'id: 3\rdata: {"emoji":"🎉","s":"ü"}\r\r: a comment, so the parser knows the last CR is not half a CRLF\n';
const EXPECTED = [
  { id: "1", type: "message", text: "héllo wörld 😀 漢字", data: "héllo wörld 😀 漢字" },
  { id: "2", type: "note", text: "line 1\n two spaces", data: "line 1\n two spaces" },
  { id: "3", type: "message", text: '{"emoji":"🎉","s":"ü"}', data: { emoji: "🎉", s: "ü" } },
];
const BYTES = new TextEncoder().encode(STREAM);

/** A fetch whose response body arrives in exactly the given chunks. */
function fetchOf(chunks: Uint8Array[]): typeof fetch {
  return async () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(chunk);
          controller.close();
        },
      }),
      { headers: { "content-type": "text/event-stream; charset=utf-8" } },
    );
}

/** Subscribes through the fetch transport over `chunks` and resolves with the first three events. */
function receive(chunks: Uint8Array[]): Promise<HeraldMessage[]> {
  return new Promise((resolve, reject) => {
    const got: HeraldMessage[] = [];
    const sub = subscribe({
      url: "http://herald.test",
      topics: "t",
      fetch: fetchOf(chunks),
      onEvent: (m) => {
        got.push(m);
        if (got.length === 3) {
          sub.close();
          resolve(got);
        }
      },
      onStateChange: (s) => {
        if (s.state === "reconnecting") reject(new Error(`stream ended after ${got.length} events`));
      },
    });
  });
}

describe("the SDK's stream parsing (fetch transport + eventsource-parser)", () => {
  test("the stream split in two at every byte, inside multibyte characters too, parses the same", async () => {
    for (let i = 1; i < BYTES.length; i++) {
      const got = await receive([BYTES.slice(0, i), BYTES.slice(i)]);
      assert.deepEqual(got, EXPECTED, `split at byte ${i}`);
    }
  });

  test("the stream in chunks of 1 to 7 bytes parses the same", async () => {
    for (let size = 1; size <= 7; size++) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < BYTES.length; i += size) chunks.push(BYTES.slice(i, i + size));
      assert.deepEqual(await receive(chunks), EXPECTED, `chunks of ${size}`);
    }
  });

  test("a token is sent as a Bearer header, fresh on each connection, with Last-Event-ID on reconnect", async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(`retry: 10\n\nid: e${seen.length}\ndata: ${seen.length}\n\n`); // then the stream ends
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    let n = 0;
    const data: unknown[] = [];
    await new Promise<void>((resolve) => {
      const sub = subscribe({
        url: `http://127.0.0.1:${port}/`,
        topics: ["x", "y/*"],
        token: () => `t${++n}`,
        onEvent: (m) => {
          data.push(m.data);
          if (data.length === 2) {
            sub.close();
            resolve();
          }
        },
      });
    });
    server.close();
    assert.deepEqual(data, [1, 2]);
    assert.deepEqual(
      seen.map((h) => [h.authorization, h["last-event-id"], h.accept]),
      [
        ["Bearer t1", undefined, "text/event-stream"],
        ["Bearer t2", "e1", "text/event-stream"],
      ],
    );
  });
});

describe("Backoff", () => {
  test("doubles from the base up to the max, with the delay drawn from [d/2, d]; reset starts over", () => {
    const low = new Backoff(100, 1000, () => 0);
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => low.next()),
      [50, 100, 200, 400, 500],
    );
    const high = new Backoff(100, 1000, () => 0.999999);
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => high.next()),
      [100, 200, 400, 800, 1000],
    );
    high.reset();
    high.setBase(10); // under the floor (Herald's smallest retry:, 100 ms): counts as 100
    assert.equal(high.next(), 100);
    high.reset();
    high.setBase(0); // a publisher's `retry: 0`: still doubles from the floor
    assert.deepEqual(
      [1, 2, 3].map(() => high.next()),
      [100, 200, 400],
    );
    const zero = new Backoff(0, 0, () => 0);
    assert.deepEqual(
      [1, 2].map(() => zero.next()),
      [50, 50],
    );
  });
});
