import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest } from "../helpers/herald.ts";
import { HUB, listenerPool, mercureToken, published } from "./helpers.ts";
import { accessToken, detail, resourceOf, startModernHerald } from "./v1-helpers.ts";

const BOOKS = "https://example.com/books/:id";

describe("Mercure 1.0: subscribing", () => {
  let herald: Herald;
  let url: string;
  let publisher: string;
  const pool = listenerPool();

  before(async () => {
    herald = await startModernHerald();
    url = herald.url;
    publisher = await accessToken(resourceOf(url), [detail(["publish"], ["*"])]);
  });
  after(async () => {
    pool.closeAll();
    await herald.close();
  });

  const publish = (topics: string[], data: string, extra: [string, string][] = []) =>
    published(url, publisher, [
      ...topics.map((t): [string, string] => ["topic", t]),
      ["data", data],
      ...extra,
    ]);

  it("match is exact and match_urlpattern a URL pattern; each update reaches the subscribers it matches", async () => {
    const exact = await pool.open(url, [["match", "https://example.com/books/1"]]);
    const pattern = await pool.open(url, [["match_urlpattern", BOOKS]]);
    const explicit = await pool.open(url, [["match_exact", "https://example.com/books/2"]]);
    const all = await pool.open(url, [["match_urlpattern", "*"]]);
    assert.equal(exact.status, 200);
    await publish(["https://example.com/books/1/reviews"], "review");
    await publish(["https://example.com/books/2"], "two");
    await publish(["https://example.com/books/1"], "one");
    await exact.receives("one");
    await pattern.receives("one");
    await explicit.receives("two");
    await all.receives("one");
    assert.deepEqual(exact.data, ["one"]);
    assert.deepEqual(pattern.data, ["two", "one"]);
    assert.deepEqual(explicit.data, ["two"]);
    assert.deepEqual(all.data, ["review", "two", "one"]);
  });

  it("refuses other match* names, 0.x's topic, bad and too complex patterns with 400", async () => {
    for (const query of [
      "Match=a",
      "match_URLPattern=a",
      "matchRegexp=a",
      "topic=a",
      `match_urlpattern=${encodeURIComponent("https://x/:a(")}`,
      `match_urlpattern=${encodeURIComponent("https://x/:a((?=b)b)")}`,
      `match_urlpattern=${encodeURIComponent("https://x/:a((?:[a-z]{60}){5})")}`,
      "match=a%01",
      "",
    ]) {
      const answer = await httpRequest(`${url}${HUB}?${query}`);
      assert.equal(answer.status, 400, `${query}: ${answer.status} ${answer.text}`);
      assert.equal(answer.headers["www-authenticate"], undefined, query);
    }
  });

  it("sends a private update only to tokens granted subscribe on one of its topics", async () => {
    const aud = resourceOf(url);
    const alice = await accessToken(aud, [
      detail(["subscribe"], [{ match: "https://example.com/users/alice/*", match_type: "urlpattern" }]),
    ]);
    const bob = await accessToken(aud, [detail(["subscribe"], ["https://example.com/users/bob"])]);
    const q: [string, string][] = [["match_urlpattern", BOOKS]];
    const anonymous = await pool.open(url, q);
    const aliceStream = await pool.open(url, q, { headers: { authorization: `Bearer ${alice}` } });
    const bobStream = await pool.open(url, q, {
      headers: { cookie: `__Secure-mercure_access_token=${bob}` },
    });
    await publish(["https://example.com/books/9", "https://example.com/users/alice/books/9"], "secret", [
      ["private", "on"],
    ]);
    await publish(["https://example.com/books/9"], "public");
    await aliceStream.receives("public");
    await anonymous.receives("public");
    await bobStream.receives("public");
    assert.deepEqual(aliceStream.data, ["secret", "public"]);
    assert.deepEqual(anonymous.data, ["public"]);
    assert.deepEqual(bobStream.data, ["public"]);
  });

  it("resumes from last_event_id or Last-Event-ID (the header wins), and from earliest, with Mercure-Last-Event-ID", async () => {
    const topic = "https://example.com/resume";
    const first = await publish([topic], "r1");
    await publish([topic], "r2");
    const query = await pool.open(url, [
      ["match", topic],
      ["last_event_id", first],
    ]);
    await query.receives("r2");
    assert.deepEqual(query.data, ["r2"]);
    assert.equal(query.headers?.get("mercure-last-event-id"), first);
    const header = await pool.open(
      url,
      [
        ["match", topic],
        ["last_event_id", "urn:unknown"],
      ],
      { headers: { "last-event-id": first } },
    );
    await header.receives("r2");
    assert.deepEqual(header.data, ["r2"]);
    const earliest = await pool.open(url, [
      ["match", topic],
      ["last_event_id", "earliest"],
    ]);
    await earliest.receives("r2");
    assert.deepEqual(earliest.data, ["r1", "r2"]);
    assert.equal(earliest.headers?.get("mercure-last-event-id"), "earliest");
    const unknown = await pool.open(url, [
      ["match", topic],
      ["last_event_id", "urn:unknown"],
    ]);
    assert.equal(unknown.headers?.get("mercure-last-event-id"), "earliest");
    assert.equal(unknown.headers?.get("last-event-id"), null);
  });

  it("answers HEAD with the headers GET would send, Mercure-Last-Event-ID included, and opens no stream", async () => {
    const topic = "https://example.com/head-resume";
    const first = await publish([topic], "h1");
    await publish([topic], "h2");
    const head = async (query: string, headers: Record<string, string> = {}) => {
      const answer = await fetch(`${url}${HUB}?match=${encodeURIComponent(topic)}${query}`, {
        method: "HEAD",
        headers,
      });
      assert.equal(answer.status, 200);
      assert.match(answer.headers.get("content-type") ?? "", /^text\/event-stream/);
      return answer.headers;
    };
    const streams = herald.mercure.context.streams.connections.size;
    assert.equal(
      (await head(`&last_event_id=${encodeURIComponent(first)}`)).get("mercure-last-event-id"),
      first,
    );
    assert.equal((await head("", { "last-event-id": first })).get("mercure-last-event-id"), first);
    assert.equal((await head("&last_event_id=earliest")).get("mercure-last-event-id"), "earliest");
    const unknown = await head("&last_event_id=urn%3Aunknown");
    assert.equal(unknown.get("mercure-last-event-id"), "earliest", "an unknown id: earliest, as GET says");
    assert.equal(unknown.get("last-event-id"), null);
    assert.equal((await head("")).get("mercure-last-event-id"), null, "no resume asked: no header");
    assert.equal(herald.mercure.context.streams.connections.size, streams, "HEAD opened no stream");
  });

  it("answers a bad subscriber token with 401 invalid_token even though anonymous subscribers are allowed", async () => {
    const expired = await accessToken(resourceOf(url), [detail(["subscribe"], ["*"])], { expiresIn: -10 });
    const answer = await httpRequest(`${url}${HUB}?match=a`, {
      headers: { authorization: `Bearer ${expired}` },
    });
    assert.equal(answer.status, 401);
    assert.match(answer.headers["www-authenticate"] as string, /^Bearer error="invalid_token"/);
    const zeroX = await httpRequest(`${url}${HUB}?match=a`, {
      headers: { authorization: `Bearer ${await mercureToken({ subscribe: ["*"] })}` },
    });
    assert.equal(zeroX.status, 401);
  });
});

describe("Mercure 1.0: a hub without anonymous subscribers", () => {
  let herald: Herald;
  before(async () => {
    herald = await startModernHerald({ mercureAnonymous: false });
  });
  after(() => herald.close());

  it("answers a subscriber without a token with 401 and a bare challenge", async () => {
    const answer = await httpRequest(`${herald.url}${HUB}?match=a`);
    assert.equal(answer.status, 401);
    assert.match(answer.headers["www-authenticate"] as string, /^Bearer resource_metadata="[^"]+"$/);
  });
});

describe("Mercure 1.0 and 0.x on one hub (compatibility mode 8)", () => {
  let herald: Herald;
  const pool = listenerPool();
  before(async () => {
    herald = await startModernHerald({ mercureProtocolCompatibility: 8, mercureSubscriptions: true });
  });
  after(async () => {
    pool.closeAll();
    await herald.close();
  });

  it("a 0.x client and a 1.0 client receive the same update, each with its generation's headers", async () => {
    const v1Publisher = await accessToken(resourceOf(herald.url), [detail(["publish"], ["*"])]);
    const v0Publisher = await mercureToken({ publish: ["*"] });
    const first = await published(herald.url, v0Publisher, [
      ["topic", "https://example.com/books/5"],
      ["data", "from 0.x"],
    ]);
    const zero = await pool.open(herald.url, [
      ["topic", "https://example.com/books/{id}"],
      ["lastEventID", first],
    ]);
    const one = await pool.open(herald.url, [
      ["match_urlpattern", BOOKS],
      ["last_event_id", first],
    ]);
    assert.equal(zero.headers?.get("last-event-id"), first);
    assert.equal(one.headers?.get("mercure-last-event-id"), first);
    await published(herald.url, v1Publisher, [
      ["topic", "https://example.com/books/5"],
      ["data", "from 1.0"],
    ]);
    await zero.receives("from 1.0");
    await one.receives("from 1.0");
    assert.deepEqual(zero.data, ["from 1.0"]);
    assert.deepEqual(one.data, ["from 1.0"]);
  });

  it("publishes subscription events in each subscription's format, and lists both", async () => {
    const aud = resourceOf(herald.url);
    const events = "/.well-known/mercure/subscriptions/:type/:match/:subscriber";
    const watcherToken = await accessToken(aud, [
      detail(
        ["subscribe"],
        [
          { match: "/.well-known/mercure/subscriptions/*", match_type: "urlpattern" },
          "/.well-known/mercure/subscriptions",
        ],
      ),
    ]);
    const watcher = await pool.open(herald.url, [["match_urlpattern", events]], {
      headers: { authorization: `Bearer ${watcherToken}` },
      types: ["mercure"],
    });
    const subscriberToken = await accessToken(aud, [
      detail(["subscribe"], [{ match: "https://example.com/books/*", match_type: "urlpattern" }], {
        tenant: "t1",
      }),
      detail(["subscribe"], ["*"], { tenant: "default" }),
    ]);
    const subscriber = await pool.open(herald.url, [["match_urlpattern", BOOKS]], {
      headers: { authorization: `Bearer ${subscriberToken}` },
    });
    const isBooks = (e: { type: string; data: string }) =>
      e.type === "mercure" && JSON.parse(e.data).match === BOOKS;
    await watcher.until(() => watcher.events.some(isBooks));
    const event = watcher.events.find(isBooks);
    const doc = JSON.parse(event?.data ?? "{}");
    assert.equal(doc.type, "subscription");
    assert.equal(doc.match_type, "urlpattern");
    assert.equal(doc.match, BOOKS);
    assert.equal(doc.active, true);
    assert.deepEqual(doc.payload, { tenant: "t1" });
    assert.match(
      doc.id,
      /^\/\.well-known\/mercure\/subscriptions\/urlpattern\/https%3A%2F%2Fexample\.com%2Fbooks%2F%3Aid\/urn%3Auuid%3A/,
    );
    const list = await httpRequest(`${herald.url}/.well-known/mercure/subscriptions`, {
      headers: { authorization: `Bearer ${watcherToken}` },
    });
    assert.equal(list.status, 200, list.text);
    const docs = (list.body as { subscriptions: { match?: string; subscriber: string }[] }).subscriptions;
    assert.ok(docs.some((d) => d.match === BOOKS && d.subscriber === doc.subscriber));
    subscriber.close();
    await watcher.until(() => watcher.events.some((e) => isBooks(e) && JSON.parse(e.data).active === false));
  });
});
