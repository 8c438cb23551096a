import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { mintHs256 } from "../../packages/herald/src/auth/index.ts";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { openApiDocument } from "../../packages/herald/src/ops/openapi/index.ts";
import { RawStream, startTestHerald } from "../helpers/herald.ts";
import { RawSocket } from "../helpers/raw-socket.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";
import { until } from "../helpers/waiters.ts";
import { SECRET as MERCURE_SECRET } from "../mercure/helpers.ts";
import { call, openStream, postForm, postJson } from "./client.ts";
import { type Answer, ApiDescription } from "./validator.ts";

/**
 * Every answer the OpenAPI description lists, produced by a real request to a running Herald and
 * checked against docs/openapi.json (status, Content-Type, body schema, required headers), success
 * and error answers alike; the last test fails when a listed answer was produced by no test and is
 * not in UNREACHABLE below.
 */

const HUB = "/.well-known/mercure";
const SUBS = `${HUB}/subscriptions`;
const MAX_EVENT = 1000;
const big = "x".repeat(MAX_EVENT + 1);

/** Listed answers no test here can produce, and why. */
const UNREACHABLE: Record<string, string> = {
  "GET /status 503": "only with --workers N, when the primary does not answer in time",
  "GET /metrics 503": "only with --workers N, when the primary does not answer in time",
};
const isInternal = (answer: string) => answer.endsWith(" 500"); // an unexpected error: a bug

let nextSubject = 0;
/** A Herald token of a subject of its own (the publish rate is counted per subject). */
const token = (rights: { publish?: string[]; subscribe?: string[] }) =>
  heraldToken(rights, { subject: `openapi-${nextSubject++}` });
const mercureToken = (claim: { publish?: string[]; subscribe?: string[] }) =>
  mintHs256(MERCURE_SECRET, { mercure: claim }, { subject: `openapi-${nextSubject++}` });

/** Sends `send()` until it answers `status` (a rate limit of 1/s with bursts of 3: a few tries). */
async function until429(send: () => Promise<Answer>): Promise<Answer> {
  for (let i = 0; i < 20; i++) {
    const answer = await send();
    if (answer.status === 429) return answer;
  }
  assert.fail("no 429 after 20 requests");
}

describe("every answer of a running Herald matches the OpenAPI description", () => {
  const api = new ApiDescription();
  /** Herald with tokens required, a Mercure key, the subscriptions API, low rate and size limits. */
  let main: Herald;
  /** One stream per client IP. */
  let tight: Herald;
  /** Drained (shutting down); the subscriptions API off. */
  let drained: Herald;
  /** Keys from a JWKS that cannot be fetched. */
  let jwks: Herald;
  /** Mercure answers at https://hub.example only (MERCURE_PUBLIC_URLS). */
  let misdirected: Herald;
  let jwksServer: Server;

  before(async () => {
    main = await startTestHerald({
      jwtSecret: TEST_SECRET,
      allowAnonymousPublish: false,
      publishRate: 1,
      publishBurst: 3,
      maxEventBytes: MAX_EVENT,
      mercureJwtKey: MERCURE_SECRET,
      mercureProtocolCompatibility: 8, // the Mercure answers checked here are 0.x ones
      mercureAnonymous: false,
      mercureSubscriptions: true,
      presence: ["room/*"],
    });
    tight = await startTestHerald({
      maxConnectionsPerIp: 1,
      mercureJwtKey: MERCURE_SECRET,
      mercureProtocolCompatibility: 8, // the Mercure answers checked here are 0.x ones
      mercureAnonymous: true,
    });
    drained = await startTestHerald({
      mercureJwtKey: MERCURE_SECRET,
      mercureProtocolCompatibility: 8,
      mercureAnonymous: true,
    });
    await drained.drain();
    misdirected = await startTestHerald({
      mercureJwtKey: MERCURE_SECRET,
      mercureProtocolCompatibility: 8,
      mercureSubscriptions: true,
      mercurePublicUrls: ["https://hub.example"],
    });
    jwksServer = createServer((_req, res) => res.writeHead(500).end());
    await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
    jwks = await startTestHerald({
      jwksUrl: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`,
      jwksCacheMs: 0,
      jwksCooldownMs: 0,
    });
  });
  after(async () => {
    await Promise.all([main.close(), tight.close(), drained.close(), jwks.close(), misdirected.close()]);
    await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
  });

  it("GET /events and GET /stream: the stream, 400, 401, 429, 503", async () => {
    for (const [path, query] of [
      ["/events", "?topic=news&topic=orders/*"],
      ["/stream", ""],
    ] as const) {
      const stream = await openStream(`${main.url}${path}${query}`);
      stream.close();
      api.check("GET", path, stream);
      assert.match(stream.body, /^: ok\n\nretry: \d+\n\n/);
      api.check(
        "GET",
        path,
        await openStream(`${main.url}${path}${query}`, { authorization: "Bearer nope" }),
      );
      // one stream per IP on `tight`: the second is refused
      const held = await openStream(`${tight.url}${path}${query}`);
      const refused = await openStream(`${tight.url}${path}${query}`);
      held.close();
      api.check("GET", path, refused);
      assert.equal(refused.status, 429);
      api.check("GET", path, await openStream(`${drained.url}${path}${query}`));
    }
    api.check("GET", "/events", await openStream(`${main.url}/events`));
  });

  it("POST /publish: 200, 400, 401, 403, 413, 415, 429, 503", async () => {
    const url = `${main.url}/publish`;
    const auth = async () => bearer(await token({ publish: ["news"] }));
    const event = { topic: "news", event: "headline", data: { title: "up" }, id: "e-1", retry: 1000 };
    api.checkRequest("POST", "/publish", "application/json", event);
    const answers = [
      await postJson(url, event, await auth()),
      await postJson(url, "{", await auth()),
      await postJson(url, event),
      await postJson(url, { topic: "sports", data: "x" }, await auth()),
      await postJson(url, { topic: "news", data: big }, await auth()),
      await call(url, {
        method: "POST",
        headers: { "content-type": "text/plain", ...(await auth()) },
        body: "x",
      }),
      await auth().then((limited) => until429(() => postJson(url, { topic: "news", data: "x" }, limited))),
      await postJson(`${drained.url}/publish`, event),
    ];
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 400, 401, 403, 413, 415, 429, 503],
    );
    for (const answer of answers) api.check("POST", "/publish", answer);
  });

  it("POST /publish/batch: 200, 400, 401, 403, 413, 415, 429, 503", async () => {
    const url = `${main.url}/publish/batch`;
    const auth = async () => bearer(await token({ publish: ["news"] }));
    const batch = (n: number, topic = "news") => ({
      events: Array.from({ length: n }, (_, i) => ({ topic, data: i })),
    });
    api.checkRequest("POST", "/publish/batch", "application/json", batch(2));
    const answers = [
      await postJson(url, batch(2), await auth()),
      await postJson(url, { events: [] }, await auth()),
      await postJson(url, batch(1)),
      await postJson(url, batch(1, "sports"), await auth()),
      await postJson(url, batch(4), bearer(await token({ publish: ["news"] }))),
      await call(url, {
        method: "POST",
        headers: { "content-type": "text/plain", ...(await auth()) },
        body: "x",
      }),
      await auth().then((limited) => until429(() => postJson(url, batch(3), limited))),
      await postJson(`${drained.url}/publish/batch`, batch(1)),
    ];
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 400, 401, 403, 413, 415, 429, 503],
    );
    for (const answer of answers) api.check("POST", "/publish/batch", answer);
    // a refused event keeps RFC 6750's challenge, as on POST /publish, and names the event
    assert.match(
      answers[3]?.headers.get("www-authenticate") ?? "",
      /^Bearer realm="herald", error="insufficient_scope", error_description="events\[0\]: /,
    );
  });

  it("POST /broadcast (the seed's shape): 200, 400, 401, 403, 413, 429, 503", async () => {
    const url = `${main.url}/broadcast`;
    const auth = async () => bearer(await token({ publish: ["broadcast"] }));
    const answers = [
      await postJson(url, { message: "hi" }, await auth()),
      await postJson(url, "{", await auth()),
      await postJson(url, { message: "hi" }),
      await postJson(url, { message: "hi" }, bearer(await token({ publish: ["news"] }))),
      await postJson(url, { message: big }, await auth()),
      await auth().then((limited) => until429(() => postJson(url, { message: "hi" }, limited))),
      await postJson(`${drained.url}/broadcast`, { message: "hi" }),
    ];
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 400, 401, 403, 413, 429, 503],
    );
    for (const answer of answers) api.check("POST", "/broadcast", answer);
    // while shutting down too, the seed's shape, with Retry-After
    const stopping = answers[6];
    assert.equal(JSON.parse(stopping?.body ?? "{}").success, false);
    assert.equal(stopping?.headers.get("retry-after"), "1");
  });

  it("POST and DELETE /auth/cookie: 204, 401, 503", async () => {
    const url = `${main.url}/auth/cookie`;
    const set = await call(url, { method: "POST", headers: bearer(await token({ subscribe: ["news"] })) });
    assert.equal(set.status, 204);
    api.check("POST", "/auth/cookie", set);
    api.check("POST", "/auth/cookie", await call(url, { method: "POST" }));
    // a token of a key the JWKS would hold: the JWKS cannot be fetched
    const header = Buffer.from(JSON.stringify({ alg: "RS256", kid: "k1" })).toString("base64url");
    const unverifiable = `${header}.${Buffer.from("{}").toString("base64url")}.c2ln`;
    const unavailable = await call(`${jwks.url}/auth/cookie`, {
      method: "POST",
      headers: bearer(unverifiable),
    });
    assert.equal(unavailable.status, 503);
    api.check("POST", "/auth/cookie", unavailable);
    api.check("DELETE", "/auth/cookie", await call(url, { method: "DELETE" }));
  });

  it("POST /streams/{id}/topics, /streams/{id}/token and /tickets: 200, 400, 401, 403, 404, 413, 415, 503", async () => {
    const subscriber = await heraldToken(
      { subscribe: ["p"] },
      { subject: "openapi-stream", expiresInSec: 600 },
    );
    const stream = new RawStream(`${main.url}/events?announce=1&topic=news`, bearer(subscriber));
    try {
      await stream.until(() => /event: herald\.stream\ndata: .*\n\n/.test(stream.text));
      const { id } = JSON.parse(/event: herald\.stream\ndata: (.*)\n/.exec(stream.text)?.[1] as string) as {
        id: string;
      };
      const topics = `/streams/${id}/topics`;
      const renew = `/streams/${id}/token`;
      const other = bearer(await token({ subscribe: ["p"] }));
      const unknown = `/streams/${id.slice(0, 9)}${"A".repeat(22)}/topics`;
      for (const [path, body, headers, status] of [
        [topics, { add: ["orders"] }, bearer(subscriber), 200],
        [topics, { add: "orders" }, bearer(subscriber), 400],
        [topics, { add: ["x"] }, {}, 401],
        [topics, { add: ["x"] }, other, 403],
        [unknown, { add: ["x"] }, bearer(subscriber), 404],
        [renew, {}, bearer(await heraldToken({ subscribe: ["p"] }, { subject: "openapi-stream" })), 200],
        [renew, [], bearer(subscriber), 400],
        [renew, {}, {}, 401],
        [renew, {}, other, 403],
        [`/streams/${id.slice(0, 9)}${"A".repeat(22)}/token`, {}, other, 404],
      ] as const) {
        const answer = await postJson(`${main.url}${path}`, body, headers);
        assert.equal(answer.status, status, `${path} ${answer.body}`);
        api.check("POST", path.endsWith("/token") ? "/streams/{id}/token" : "/streams/{id}/topics", answer);
      }
      for (const path of ["/streams/{id}/topics", "/streams/{id}/token"]) {
        const answer = await postJson(`${drained.url}${path.replace("{id}", id)}`, {}, bearer(subscriber));
        assert.equal(answer.status, 503);
        api.check("POST", path, answer);
        // a body over HERALD_MAX_BODY (1 MiB), and one that is not JSON
        const url = `${main.url}${path.replace("{id}", id)}`;
        const tooLarge = await postJson(url, `{"add":["${"x".repeat(1024 * 1024)}"]}`, bearer(subscriber));
        assert.equal(tooLarge.status, 413, tooLarge.body);
        api.check("POST", path, tooLarge);
        const notJson = await call(url, {
          method: "POST",
          headers: { ...bearer(subscriber), "content-type": "text/plain" },
          body: '{"add":["x"]}',
        });
        assert.equal(notJson.status, 415, notJson.body);
        api.check("POST", path, notJson);
      }
      const ticket = await call(`${main.url}/tickets`, { method: "POST", headers: bearer(subscriber) });
      assert.equal(ticket.status, 200);
      api.check("POST", "/tickets", ticket);
      api.check("POST", "/tickets", await call(`${main.url}/tickets`, { method: "POST" }));
      const refused = await call(`${drained.url}/tickets`, { method: "POST", headers: bearer(subscriber) });
      assert.equal(refused.status, 503);
      api.check("POST", "/tickets", refused);
    } finally {
      stream.close();
    }
  });

  it("POST /streams/{id}/topics, /streams/{id}/token and /tickets: 429 past the control rate", async () => {
    const limited = await startTestHerald({ jwtSecret: TEST_SECRET, controlRate: 1, controlBurst: 1 });
    const subscriber = bearer(await heraldToken({ subscribe: ["p"] }, { subject: "openapi-rate" }));
    const stream = new RawStream(`${limited.url}/events?announce=1&topic=news`, subscriber);
    try {
      await stream.until(() => /event: herald\.stream\ndata: .*\n\n/.test(stream.text));
      const { id } = JSON.parse(/event: herald\.stream\ndata: (.*)\n/.exec(stream.text)?.[1] as string) as {
        id: string;
      };
      const ticket = await call(`${limited.url}/tickets`, { method: "POST", headers: subscriber });
      assert.equal(ticket.status, 200);
      const refused = await call(`${limited.url}/tickets`, { method: "POST", headers: subscriber });
      assert.equal(refused.status, 429);
      api.check("POST", "/tickets", refused);
      for (const path of ["/streams/{id}/topics", "/streams/{id}/token"]) {
        const answer = await postJson(
          `${limited.url}${path.replace("{id}", id)}`,
          { add: ["x"] },
          subscriber,
        );
        assert.equal(answer.status, 429);
        api.check("POST", path, answer);
      }
    } finally {
      stream.close();
      await limited.close();
    }
  });

  it("Mercure subscribe: the stream, 400, 401, 429, 503", async () => {
    const auth = bearer(await mercureToken({ subscribe: ["*"] }));
    const stream = await openStream(`${main.url}${HUB}?topic=https://example.com/books/{id}`, auth);
    stream.close();
    api.check("GET", HUB, stream);
    api.check("GET", HUB, await openStream(`${main.url}${HUB}`, auth));
    api.check("GET", HUB, await openStream(`${main.url}${HUB}?topic=a`));
    const held = await openStream(`${tight.url}${HUB}?topic=a`);
    const refused = await openStream(`${tight.url}${HUB}?topic=a`);
    held.close();
    assert.equal(refused.status, 429);
    api.check("GET", HUB, refused);
    api.check("GET", HUB, await openStream(`${drained.url}${HUB}?topic=a`));
  });

  it("Mercure subscribe with QUERY: the stream, 400, 401, 413, 415, 429, 503", async () => {
    const form = { "content-type": "application/x-www-form-urlencoded" };
    const auth = { ...form, ...bearer(await mercureToken({ subscribe: ["*"] })) };
    const query = (base: string, body: string, headers: Record<string, string> = auth) =>
      openStream(`${base}${HUB}`, headers, { method: "QUERY", body });
    const stream = await query(main.url, "topic=https://example.com/books/{id}");
    stream.close();
    const held = await openStream(`${tight.url}${HUB}?topic=a`);
    const answers = [
      stream,
      await query(main.url, "last_event_id=x"),
      await query(main.url, "topic=a", form),
      await query(main.url, `topic=${"a".repeat(1_100_000)}`),
      await query(main.url, "{}", { ...auth, "content-type": "application/json" }),
      await query(tight.url, "topic=a", form),
      await query(drained.url, "topic=a", form),
    ];
    held.close();
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 400, 401, 413, 415, 429, 503],
    );
    for (const answer of answers) api.check("X-QUERY", HUB, answer);
  });

  it("every Mercure route: 421 to an origin outside MERCURE_PUBLIC_URLS", async () => {
    const form = { "content-type": "application/x-www-form-urlencoded" };
    const metadata = "/.well-known/oauth-protected-resource/.well-known/mercure";
    const answers: [string, string, Answer][] = [
      ["GET", HUB, await openStream(`${misdirected.url}${HUB}?topic=a`)],
      [
        "X-QUERY",
        HUB,
        await openStream(`${misdirected.url}${HUB}`, form, { method: "QUERY", body: "topic=a" }),
      ],
      ["POST", HUB, await postForm(`${misdirected.url}${HUB}`, [["topic", "a"]])],
      ["GET", metadata, await call(`${misdirected.url}${metadata}`)],
      ["GET", SUBS, await call(`${misdirected.url}${SUBS}`)],
      ["GET", `${SUBS}/{topic}`, await call(`${misdirected.url}${SUBS}/a`)],
      ["GET", `${SUBS}/{topic}/{subscriber}`, await call(`${misdirected.url}${SUBS}/a/b`)],
    ];
    for (const [method, path, answer] of answers) {
      assert.equal(answer.status, 421, `${method} ${path}: ${answer.body}`);
      api.check(method, path, answer);
    }
  });

  it("Mercure publish: 200, 400, 401, 403, 413, 415, 429, 503", async () => {
    const url = `${main.url}${HUB}`;
    const auth = async () => bearer(await mercureToken({ publish: ["https://example.com/books/{id}"] }));
    const update: [string, string][] = [
      ["topic", "https://example.com/books/1"],
      ["data", "hello"],
    ];
    const answers = [
      await postForm(url, update, await auth()),
      await postForm(url, [["data", "no topic"]], await auth()),
      await postForm(url, update),
      await postForm(url, [["topic", "https://example.com/authors/1"]], await auth()),
      await postForm(
        url,
        [
          ["topic", "https://example.com/books/1"],
          ["data", big],
        ],
        await auth(),
      ),
      await call(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...(await auth()) },
        body: "{}",
      }),
      await auth().then((limited) => until429(() => postForm(url, update, limited))),
      await postForm(`${drained.url}${HUB}`, update),
    ];
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 400, 401, 403, 413, 415, 429, 503],
    );
    for (const answer of answers) api.check("POST", HUB, answer);
  });

  it("the Mercure subscriptions API: 200, 304, 400, 401, 403, 404", async () => {
    const topic = "https://example.com/books/{id}";
    const stream = await openStream(
      `${main.url}${HUB}?topic=${encodeURIComponent(topic)}`,
      bearer(await mercureToken({ subscribe: ["https://example.com/books/1"] })),
    );
    try {
      const auth = bearer(await mercureToken({ subscribe: ["*"] }));
      const list = await call(`${main.url}${SUBS}`, { headers: auth });
      api.check("GET", SUBS, list);
      const listed = JSON.parse(list.body) as { subscriptions: { topic: string; subscriber: string }[] };
      const mine = listed.subscriptions.find((s) => s.topic === topic);
      assert.ok(mine !== undefined, `the open stream is listed: ${list.body}`);
      const paths: [string, string][] = [
        [SUBS, SUBS],
        [`${SUBS}/{topic}`, `${SUBS}/${encodeURIComponent(topic)}`],
        [
          `${SUBS}/{topic}/{subscriber}`,
          `${SUBS}/${encodeURIComponent(topic)}/${encodeURIComponent(mine.subscriber)}`,
        ],
      ];
      const other = bearer(await mercureToken({ subscribe: ["https://example.com/books/1"] }));
      for (const [described, path] of paths) {
        const ok = await call(`${main.url}${path}`, { headers: auth });
        assert.equal(ok.status, 200, ok.body);
        api.check("GET", described, ok);
        const etag = ok.headers.get("etag") ?? "";
        api.check(
          "GET",
          described,
          await call(`${main.url}${path}`, { headers: { ...auth, "if-none-match": etag } }),
        );
        api.check("GET", described, await call(`${main.url}${path}`));
        api.check("GET", described, await call(`${main.url}${path}`, { headers: other }));
        api.check("GET", described, await call(`${drained.url}${path}`));
      }
      api.check("GET", `${SUBS}/{topic}`, await call(`${main.url}${SUBS}/%E0%A4%A`, { headers: auth }));
      const badSubscriber = await call(`${main.url}${SUBS}/a/%E0%A4%A`, { headers: auth });
      api.check("GET", `${SUBS}/{topic}/{subscriber}`, badSubscriber);
      const gone = await call(`${main.url}${SUBS}/a/urn%3Auuid%3Anobody`, { headers: auth });
      assert.equal(gone.status, 404);
      api.check("GET", `${SUBS}/{topic}/{subscriber}`, gone);
    } finally {
      stream.close();
    }
  });

  it("GET /presence: 200, 400, 401, 403, 404", async () => {
    const reader = bearer(await heraldToken({ subscribe: ["room/*"] }));
    const ok = await call(`${main.url}/presence?topic=room/1`, { headers: reader });
    assert.equal(ok.status, 200, ok.body);
    api.check("GET", "/presence", ok);
    api.check("GET", "/presence", await call(`${main.url}/presence`, { headers: reader }));
    api.check("GET", "/presence", await call(`${main.url}/presence?topic=lobby`, { headers: reader }));
    const closed = await startTestHerald({
      jwtSecret: TEST_SECRET,
      allowAnonymousSubscribe: false,
      presence: ["room/*"],
    });
    try {
      api.check("GET", "/presence", await call(`${closed.url}/presence?topic=room/1`));
      const other = bearer(await heraldToken({ subscribe: ["news"] }));
      api.check("GET", "/presence", await call(`${closed.url}/presence?topic=room/1`, { headers: other }));
    } finally {
      await closed.close();
    }
  });

  it("health, readiness, figures, metrics, the page and this description", async () => {
    for (const path of [
      "/healthz",
      "/readyz",
      "/status",
      "/metrics",
      "/openapi.json",
      "/",
      "/app.js",
      "/style.css",
    ]) {
      const answer = await call(`${main.url}${path}`);
      assert.equal(answer.status, 200, `${path}: ${answer.body.slice(0, 200)}`);
      api.check("GET", path, answer);
    }
    api.check("GET", "/herald-client.js", await call(`${main.url}/herald-client.js`));
    const metadata = "/.well-known/oauth-protected-resource/.well-known/mercure";
    api.check("GET", metadata, await call(`${main.url}${metadata}`));
    api.check("GET", "/readyz", await call(`${drained.url}/readyz`));
  });

  it("any path: 404 for a path Herald does not serve, 405 with Allow for another method", async () => {
    api.checkShared("NotFound", await call(`${main.url}/nope`));
    api.checkShared("NotFound", await call(`${main.url}/.well-known/mercure/nope`));
    const notAllowed = await call(`${main.url}/healthz`, { method: "POST" });
    assert.equal(notAllowed.headers.get("allow"), "GET, OPTIONS");
    api.checkShared("MethodNotAllowed", notAllowed);
    api.checkShared("MethodNotAllowed", await call(`${main.url}${HUB}`, { method: "DELETE" }));
  });

  it("any connection: 400 for bytes that are no request, 408 for one not sent in time, 431 for headers over 16 KiB", async () => {
    const quick = await startTestHerald({ headersTimeoutMs: 500 });
    const port = Number(new URL(quick.url).port);
    const sockets: RawSocket[] = [];
    try {
      for (const [name, bytes, status] of [
        ["Malformed", "XYZ not http\r\n\r\n", 400],
        ["RequestTimeout", "GET /healthz HTTP/1.1\r\nHost: x\r\n", 408],
        ["HeadersTooLarge", `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`, 431],
      ] as const) {
        const socket = new RawSocket(port);
        sockets.push(socket);
        await socket.connected();
        socket.send(bytes);
        await until(() => socket.ended, `the ${status} answer`, 10_000);
        const [head = "", body = ""] = socket.text.split("\r\n\r\n");
        const [statusLine = "", ...lines] = head.split("\r\n");
        const headers = new Headers(lines.map((line) => line.split(/:\s*/, 2) as [string, string]));
        const answer = { status: Number(statusLine.split(" ")[1]), headers, body };
        assert.equal(answer.status, status, socket.text);
        api.checkShared(name, answer);
      }
    } finally {
      for (const socket of sockets) socket.socket.destroy();
      await quick.close();
    }
  });

  it("OPTIONS on every path (and a CORS preflight): 204 with Allow", async () => {
    for (const path of Object.keys(openApiDocument().paths as object)) {
      const url = `${main.url}${path.replace(/\{[^}]+\}/g, (param) => param.slice(1, -1))}`;
      const answer = await call(url, {
        method: "OPTIONS",
        headers: { Origin: "http://app.example", "Access-Control-Request-Method": "POST" },
      });
      api.check("OPTIONS", path, answer);
    }
  });

  it("every answer the description lists was produced above (or is known to be unreachable)", () => {
    const missing = api
      .listedAnswers()
      .filter((answer) => !api.checked.has(answer) && !(answer in UNREACHABLE) && !isInternal(answer));
    assert.deepEqual(missing, [], "listed answers no test produced: test them, or list them in UNREACHABLE");
    for (const answer of Object.keys(UNREACHABLE)) {
      assert.ok(
        api.listedAnswers().includes(answer),
        `UNREACHABLE lists ${answer}, which the description does not`,
      );
    }
  });
});
