import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, publish, RawStream, startTestHerald } from "../helpers/herald.ts";
import { RecordingClient } from "../helpers/sse-client.ts";

interface Case {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  status: number;
  message: RegExp;
}

const json = { "content-type": "application/json" };

const CASES: Case[] = [
  {
    name: "malformed JSON",
    path: "/publish",
    headers: json,
    body: '{"topic":',
    status: 400,
    message: /not valid JSON/,
  },
  { name: "empty body", path: "/publish", headers: json, body: "", status: 400, message: /empty/ },
  {
    name: "wrong Content-Type",
    path: "/publish",
    headers: { "content-type": "text/plain" },
    body: "{}",
    status: 415,
    message: /application\/json/,
  },
  {
    name: "a charset other than UTF-8",
    path: "/publish",
    headers: { "content-type": "application/json; charset=utf-16" },
    body: '{"topic":"t","data":"x"}',
    status: 415,
    message: /charset "utf-16" is not accepted; send the body as UTF-8/,
  },
  {
    name: "no Content-Type",
    path: "/publish",
    body: '{"topic":"t","data":1}',
    status: 415,
    message: /missing/,
  },
  {
    name: "body over the limit",
    path: "/publish",
    headers: json,
    body: JSON.stringify({ topic: "t", data: "x".repeat(3000) }),
    status: 413,
    message: /limit/,
  },
  {
    name: "missing topic",
    path: "/publish",
    headers: json,
    body: '{"data":"x"}',
    status: 400,
    message: /"topic" is required/,
  },
  {
    name: "empty topic",
    path: "/publish",
    headers: json,
    body: '{"topic":"","data":"x"}',
    status: 400,
    message: /must not be empty/,
  },
  {
    name: "empty topic list",
    path: "/publish",
    headers: json,
    body: '{"topic":[],"data":"x"}',
    status: 400,
    message: /"topic" is required/,
  },
  {
    name: "missing data",
    path: "/publish",
    headers: json,
    body: '{"topic":"t"}',
    status: 400,
    message: /"data" is required/,
  },
  {
    name: "id with LF",
    path: "/publish",
    headers: json,
    body: '{"topic":"t","data":"x","id":"a\\nb"}',
    status: 400,
    message: /CR, LF or NUL/,
  },
  {
    name: "event with CR",
    path: "/publish",
    headers: json,
    body: '{"topic":"t","data":"x","event":"a\\rb"}',
    status: 400,
    message: /CR, LF or NUL/,
  },
  {
    name: "id with NUL",
    path: "/publish",
    headers: json,
    body: '{"topic":"t","data":"x","id":"a\\u0000b"}',
    status: 400,
    message: /CR, LF or NUL/,
  },
  {
    name: "unknown field",
    path: "/publish",
    headers: json,
    body: '{"topics":"t","data":"x"}',
    status: 400,
    message: /unknown field "topics"/,
  },
  {
    name: "not an object",
    path: "/publish",
    headers: json,
    body: "[1,2]",
    status: 400,
    message: /JSON object/,
  },
  {
    name: "bad retry",
    path: "/publish",
    headers: json,
    body: '{"topic":"t","data":"x","retry":-5}',
    status: 400,
    message: /retry/,
  },
  {
    name: "subscription without topic",
    method: "GET",
    path: "/events",
    status: 400,
    message: /at least one topic/,
  },
  {
    name: "too many topics",
    method: "GET",
    path: `/events?${Array.from({ length: 5 }, (_, i) => `topic=t${i}`).join("&")}`,
    status: 400,
    message: /at most 4 topics/,
  },
  // ids a Last-Event-ID header cannot carry back unchanged: a resume would start elsewhere
  ...[
    ["an id with a lone surrogate", '"k\\ud800"', /lone surrogate/],
    ["an id ending with a space", '"k "', /space or tab/],
    ["an id starting with a tab", '"\\tk"', /space or tab/],
    ["an id starting with a BOM", '"\\ufeffk"', /format characters/],
    ["an id with U+0001", '"k\\u0001"', /control or format/],
    ["an id with U+0085 (C1)", '"k\\u0085"', /control or format/],
    ["an id with U+200B", '"k\\u200bk"', /control or format/],
    ["an event type with a lone surrogate", null, /"event" is not valid Unicode/],
  ].map(([what, id, message]) => ({
    name: what as string,
    path: "/publish",
    headers: json,
    body:
      id === null
        ? '{"topic":"t","data":"x","event":"e\\udc00"}'
        : `{"topic":"t","data":"x","id":${id as string}}`,
    status: 400,
    message: message as RegExp,
  })),
  {
    name: "a topic with a C1 control character (U+0085, a line break to some parsers)",
    path: "/publish",
    headers: json,
    body: '{"topic":"t\\u0085x","data":"x"}',
    status: 400,
    message: /control characters/,
  },
  {
    name: "a subscription to a topic with a C1 control character",
    method: "GET",
    path: "/events?topic=t%C2%85x",
    status: 400,
    message: /control characters/,
  },
  ...[
    ["a subscription to a topic percent-encoded as no UTF-8 (a lone surrogate)", "/events?topic=%ED%A0%80"],
    ["a subscription to a topic percent-encoded as no UTF-8 (a lone byte)", "/events?topic=t%FF"],
    ["a resume id percent-encoded as no UTF-8", "/events?topic=t&lastEventId=%C3"],
    ["a presence query for a topic percent-encoded as no UTF-8", "/presence?topic=t%FF"],
  ].map(([name, path]) => ({
    name: name as string,
    method: "GET",
    path: path as string,
    status: 400,
    message: /not valid UTF-8/,
  })),
  {
    name: "data with a lone surrogate (JSON escape)",
    path: "/publish",
    headers: json,
    body: '{"topic":"t","data":"a\\ud800b"}',
    status: 400,
    message: /"data" is not valid Unicode/,
  },
  {
    name: "a ticket on the seed's /stream (it would be ignored: tickets open /events streams)",
    method: "GET",
    path: "/stream?ticket=abc",
    status: 400,
    message: /tickets open GET \/events/,
  },
  { name: "unknown route", method: "GET", path: "/nope", status: 404, message: /no route \/nope/ },
  { name: "wrong method", method: "PUT", path: "/publish", status: 405, message: /use POST/ },
];

describe("bad input gets a clear error and changes nothing else", () => {
  let herald: Herald;
  let client: RecordingClient;
  before(async () => {
    herald = await startTestHerald({ maxBodyBytes: 2048, maxTopics: 4 });
    client = new RecordingClient(`${herald.url}/events?topic=t`);
    await client.opened();
  });
  after(async () => {
    client.close();
    await herald.close();
  });

  for (const c of CASES) {
    it(`${c.name}: ${c.status}`, async () => {
      const res = await httpRequest(`${herald.url}${c.path}`, {
        method: c.method ?? "POST",
        headers: c.headers,
        // fetch labels a string body text/plain; bytes go without a Content-Type.
        body: c.headers === undefined && c.body !== undefined ? new TextEncoder().encode(c.body) : c.body,
      });
      assert.equal(res.status, c.status, res.text);
      assert.match(String(res.headers["content-type"]), /application\/json/);
      const body = res.body as { error: string; message: string };
      assert.match(body.message, c.message);
      if (c.status === 405) assert.equal(res.headers.allow, "POST, OPTIONS");
    });
  }

  /** Sends `head` and then `chunks` (HTTP/1.1 chunked) on a raw socket; resolves with what came back. */
  const rawPost = (chunks: string[], endEarly: boolean) =>
    new Promise<string>((resolve, reject) => {
      const url = new URL(herald.url);
      const socket = connect(Number(url.port), url.hostname);
      let answer = "";
      socket.setEncoding("utf8");
      socket.on("data", (text: string) => {
        answer += text;
        if (answer.includes("\r\n\r\n")) socket.end();
      });
      socket.on("error", reject);
      socket.on("close", () => resolve(answer));
      socket.write(
        "POST /publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
      );
      for (const chunk of chunks) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      if (endEarly) setTimeout(() => socket.destroy(), 50);
    });

  it("a JSON body whose bytes are not UTF-8: 400, nothing stored", async () => {
    const before = herald.hub.counters.published;
    const body = Uint8Array.from([...Buffer.from('{"topic":"t","data":"a'), 0xff, ...Buffer.from('"}')]);
    const res = await httpRequest(`${herald.url}/publish`, { method: "POST", headers: json, body });
    assert.equal(res.status, 400, res.text);
    assert.match((res.body as { message: string }).message, /not valid UTF-8/);
    assert.equal(herald.hub.counters.published, before);
  });

  it("a chunked body (no Content-Length) over the limit: 413 as soon as it passes the limit", async () => {
    const answer = await rawPost(['{"topic":"t","data":"', "x".repeat(1500), "x".repeat(1500)], false);
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /HERALD_MAX_BODY/);
  });

  it("a client that goes away in the middle of its body publishes nothing", async () => {
    const answer = await rawPost(['{"topic":"t","data":"half'], true);
    assert.equal(answer, "", "no answer: the body never ended");
  });

  it("a query parameter Herald does not read is not checked (a Latin-1 tracking parameter)", async () => {
    const stream = new RawStream(`${herald.url}/events?topic=t&ref=caf%E9&caf%E9=1`);
    try {
      await stream.opened();
      assert.equal(stream.status, 200);
    } finally {
      stream.close();
    }
  });

  it("stored nothing from refused publishes and still serves everyone", async () => {
    const res = await publish(herald.url, { topic: "t", data: "after all that" });
    assert.equal(res.status, 200);
    await client.until(() => client.events.length === 1);
    assert.deepEqual(client.datas(), ["after all that"]);
    assert.equal(herald.hub.counters.published, 1);
  });
});

describe("deeply nested JSON: 400 on every JSON body route, never a 500", () => {
  let herald: Herald;
  let client: RecordingClient;
  before(async () => {
    herald = await startTestHerald({ broadcastTopic: "t" });
    client = new RecordingClient(`${herald.url}/events?topic=t`);
    await client.opened();
  });
  after(async () => {
    client.close();
    await herald.close();
  });

  const nested = (depth: number) => `${"[".repeat(depth)}1${"]".repeat(depth)}`;
  const deep = nested(100_000);
  const post = (path: string, body: string) =>
    httpRequest(`${herald.url}${path}`, { method: "POST", headers: json, body });

  it("POST /publish, POST /publish/batch and POST /broadcast answer 400 naming the limit", async () => {
    const single = await post("/publish", `{"topic":"t","data":${deep}}`);
    assert.equal(single.status, 400, single.text);
    assert.match((single.body as { message: string }).message, /nested more than 512 levels deep/);
    const batch = await post(
      "/publish/batch",
      `{"events":[{"topic":"t","data":"ok"},{"topic":"t","data":${deep}}]}`,
    );
    assert.equal(batch.status, 400, batch.text);
    assert.match((batch.body as { message: string }).message, /nested more than 512 levels deep/);
    const seed = await post("/broadcast", deep);
    assert.equal(seed.status, 400, seed.text);
    assert.deepEqual(Object.keys(seed.body as object), ["success", "code", "message"], "the seed's shape");
    assert.match((seed.body as { message: string }).message, /nested more than 512 levels deep/);
  });

  it("data nested 512 levels deep is accepted, and nothing refused was stored", async () => {
    const res = await post("/publish", `{"topic":"t","data":${nested(510)}}`);
    assert.equal(res.status, 200, res.text);
    await client.until(() => client.events.length === 1);
    assert.equal(client.datas()[0], nested(510));
    assert.equal(herald.hub.counters.published, 1);
  });
});
