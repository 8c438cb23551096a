import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, publish, startTestHerald } from "../helpers/herald.ts";
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

  it("a chunked body (no Content-Length) over the limit: 413 as soon as it passes the limit", async () => {
    const answer = await rawPost(['{"topic":"t","data":"', "x".repeat(1500), "x".repeat(1500)], false);
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.match(answer, /HERALD_MAX_BODY/);
  });

  it("a client that goes away in the middle of its body publishes nothing", async () => {
    const answer = await rawPost(['{"topic":"t","data":"half'], true);
    assert.equal(answer, "", "no answer: the body never ended");
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
