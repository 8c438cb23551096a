import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { EventSource } from "eventsource";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, startTestHerald } from "../helpers/herald.ts";
import { prng } from "../helpers/prng.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";

const SEED = Number(process.env.HERALD_FUZZ_SEED ?? 20261124);
const CASES = 400;

const ROUTES = [
  "/events",
  "/stream",
  "/publish",
  "/broadcast",
  "/healthz",
  "/readyz",
  "/auth/cookie",
  "/",
  "/nope",
  "*",
];
const METHODS = ["GET", "GET", "POST", "POST", "DELETE", "OPTIONS", "HEAD", "PUT", "PATCH", "BREW", "get"];
const QUERIES = [
  "",
  "?",
  "?topic=",
  "?topic=%",
  "?topic=%zz",
  "?topic=%E0%A4%A",
  "?topic=%ff%fe",
  "?topic=%00",
  "?topic=a%0d%0aevent:%20x",
  "?topic[]=a&topic[x]=b",
  "?topic=a&topic=a&topic=a",
  "?lastEventId=%0A",
  "?lastEventId=x-99999999999999999999",
  `?topic=${"x".repeat(5000)}`,
  `?${"topic=a&".repeat(300)}`,
  "?topic=*",
  "?topic=a/*&topic=:*",
  "?topic=\u00e9\u00e8",
  "#frag",
  "?topic=news;drop",
];
const BODIES = [
  "",
  "{",
  "null",
  "[]",
  '{"topic":"t","data":"x"}',
  '{"topic":["t"],"data":{"a":1},"private":true}',
  '{"topic":"t","data":"x","id":"a\\nb"}',
  '{"topic":"t","data":"x","retry":-1}',
  '{"topic":"t","data":"x","unknown":1}',
  '{"topic":1e309,"data":"x"}',
  '{"topic":"t","data":"\\ud800"}',
  '{"__proto__":{"x":1},"topic":"t","data":"y"}',
];

describe("fuzz: random bytes, huge headers, broken UTF-8 and odd queries at every route", () => {
  let herald: Herald;
  let watcher: EventSource;
  const seen: string[] = [];
  let token = "";
  before(async () => {
    herald = await startTestHerald({
      jwtSecret: TEST_SECRET,
      maxConnectionsPerIp: 10_000,
      headersTimeoutMs: 2000,
    });
    token = await heraldToken({ publish: ["*"], subscribe: ["*"] }, { subject: "watcher" });
    watcher = new EventSource(`${herald.url}/events?topic=watch`);
    watcher.addEventListener("message", (event) => seen.push(event.lastEventId));
    await new Promise<void>((resolve) => watcher.addEventListener("open", () => resolve(), { once: true }));
  });
  after(async () => {
    watcher.close();
    await herald.close();
  });

  /** Sends raw bytes, then answers the status of every response read before the socket closes (or 1.5 s). */
  function send(payload: Buffer): Promise<number[]> {
    return new Promise((resolve) => {
      const socket = connect(Number(new URL(herald.url).port), "127.0.0.1");
      let text = "";
      const done = () => {
        clearTimeout(timer);
        socket.destroy();
        resolve([...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1])));
      };
      const timer = setTimeout(done, 1500);
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString("latin1");
      });
      socket.on("close", done);
      socket.on("error", done);
      socket.end(payload);
    });
  }

  function request(rand: ReturnType<typeof prng>): Buffer {
    const kind = rand.int(8);
    if (kind === 0) return rand.bytes(1 + rand.int(2000)); // pure noise
    const method = rand.pick(METHODS);
    let target = rand.pick(ROUTES) + rand.pick(QUERIES);
    if (kind === 1) target = `${rand.pick(ROUTES)}?topic=${rand.percent(20)}&lastEventId=${rand.percent(10)}`;
    const headers: string[] = ["Host: fuzz"];
    const body = kind === 2 ? rand.bytes(rand.int(3000)) : Buffer.from(rand.pick(BODIES));
    if (kind === 3) headers.push(`X-Huge: ${"h".repeat(20_000 + rand.int(50_000))}`);
    if (kind === 4)
      headers.push(
        `Authorization: Bearer ${rand.bytes(40).toString("base64url")}.${rand.bytes(40).toString("base64url")}.x`,
      );
    if (kind === 5) headers.push(`Cookie: heraldAuthorization=${rand.brokenUtf8(60)}`);
    if (kind === 6) headers.push(`Last-Event-ID: ${rand.brokenUtf8(30)}`);
    if (kind === 7) headers.push(`Authorization: ${rand.brokenUtf8(50)}`);
    if (rand.next() < 0.3) headers.push("Content-Type: application/json");
    if (rand.next() < 0.2) headers.push(`Content-Type: ${rand.brokenUtf8(10)}`);
    const framing = rand.next();
    if (framing < 0.2) {
      const length = rand.pick(["-1", "abc", "99999999999", "0", String(body.length + 5)]);
      headers.push(`Content-Length: ${length}`);
    } else if (framing < 0.35) headers.push("Transfer-Encoding: chunked");
    else headers.push(`Content-Length: ${body.length}`);
    if (rand.next() < 0.2)
      headers.push(`Origin: ${rand.pick(["null", "https://x.example", rand.brokenUtf8(8)])}`);
    const head = `${method} ${target} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n`;
    return Buffer.concat([Buffer.from(head, "latin1"), body]);
  }

  it(`gets no 5xx and no crash, and subscribers keep receiving (seed ${SEED})`, async (t) => {
    const rand = prng(SEED);
    const statuses = new Map<number, number>();
    let markers = 0;
    for (let batch = 0; batch < CASES / 20; batch++) {
      const results = await Promise.all(Array.from({ length: 20 }, () => request(rand)).map(send));
      for (const status of results.flat()) statuses.set(status, (statuses.get(status) ?? 0) + 1);
      const id = `m${++markers}`;
      const res = await httpRequest(`${herald.url}/publish`, {
        method: "POST",
        headers: { "content-type": "application/json", ...bearer(token) },
        body: JSON.stringify({ topic: "watch", data: id, id }),
      });
      assert.equal(res.status, 200, `the hub still publishes after batch ${batch}: ${res.text}`);
    }
    t.diagnostic(
      `statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`,
    );
    const fivexx = [...statuses].filter(([status]) => status >= 500);
    assert.deepEqual(fivexx, [], `statuses seen: ${JSON.stringify([...statuses])}`);
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`watcher saw ${seen.length}/${markers}`)), 10_000);
      const poll = setInterval(() => {
        if (seen.length >= markers) {
          clearInterval(poll);
          clearTimeout(deadline);
          resolve();
        }
      }, 20);
    });
    assert.deepEqual(
      seen,
      Array.from({ length: markers }, (_v, i) => `m${i + 1}`),
    );
    assert.equal((await httpRequest(`${herald.url}/healthz`)).status, 200);
  });
});
