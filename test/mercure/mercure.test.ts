import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { mintHs256 } from "../../packages/herald/src/auth/index.ts";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { publish as heraldPublish, httpRequest, RawStream } from "../helpers/herald.ts";
import {
  HUB,
  listenerPool,
  mercurePublish,
  mercureToken,
  published,
  SECRET,
  startMercureHerald,
} from "./helpers.ts";

const BOOKS = "https://example.com/books";

describe("Mercure protocol: publish and subscribe", () => {
  let herald: Herald;
  let url: string;
  let publisher: string;
  const { open, closeAll } = listenerPool();

  before(async () => {
    herald = await startMercureHerald();
    url = herald.url;
    publisher = await mercureToken({ publish: ["*"] });
  });
  after(async () => {
    closeAll();
    await herald.close();
  });

  it("publishes form data with several lines and answers the urn:uuid id as text/plain", async () => {
    const sub = await open(url, [["topic", `${BOOKS}/1`]]);
    const data = 'first line\nsecond line\n\n  indented {"json": true}\r\nlast';
    const answer = await mercurePublish(
      url,
      [
        ["topic", `${BOOKS}/1`],
        ["data", data],
        ["type", "book-updated"],
      ],
      { authorization: `Bearer ${publisher}` },
    );
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get("content-type") ?? "", /^text\/plain/);
    assert.match(
      answer.text,
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    // `type` is the SSE event name: a plain `message` listener does not get it.
    const typed = await open(url, [["topic", `${BOOKS}/1`]], { types: ["book-updated"] });
    const id = await published(url, publisher, [
      ["topic", `${BOOKS}/1`],
      ["type", "book-updated"],
      ["data", data],
    ]);
    await typed.until(() => typed.events.some((e) => e.id === id));
    const event = typed.events.find((e) => e.id === id)!;
    assert.equal(event.type, "book-updated");
    // CRLF in data becomes a line break; every line arrives.
    assert.equal(event.data, data.replace("\r\n", "\n"));
    await published(url, publisher, [
      ["topic", `${BOOKS}/1`],
      ["data", "sentinel-1"],
    ]);
    await sub.receives("sentinel-1");
    assert.deepEqual(sub.data, ["sentinel-1"], "typed events do not reach onmessage");
  });

  it("uses the publisher's id, refuses one starting with #, and sends retry", async () => {
    const sub = await open(url, [["topic", "ids"]]);
    const raw = new RawStream(`${url}${HUB}?topic=ids`);
    await raw.opened();
    const id = await published(url, publisher, [
      ["topic", "ids"],
      ["id", "book-1-rev-7"],
      ["retry", "1234"],
      ["data", "x"],
    ]);
    assert.equal(id, "book-1-rev-7");
    await sub.until(() => sub.events.some((e) => e.id === "book-1-rev-7"));
    await raw.until(() => raw.text.includes("id: book-1-rev-7\nretry: 1234\ndata: x\n\n"));
    raw.close();
    const refused = await mercurePublish(
      url,
      [
        ["topic", "ids"],
        ["id", "#42"],
      ],
      {
        authorization: `Bearer ${publisher}`,
      },
    );
    assert.equal(refused.status, 400);
    assert.match(refused.text, /must not start with "#"/);
  });

  it("delivers an update to subscribers of its canonical topic and of its alternates", async () => {
    const canonical = await open(url, [["topic", `${BOOKS}/2`]]);
    const alternate = await open(url, [["topic", "https://example.com/authors/9/books"]]);
    const other = await open(url, [["topic", `${BOOKS}/3`]]);
    await published(url, publisher, [
      ["topic", `${BOOKS}/2`],
      ["topic", "https://example.com/authors/9/books"],
      ["data", "book 2 changed"],
    ]);
    await canonical.receives("book 2 changed");
    await alternate.receives("book 2 changed");
    await published(url, publisher, [
      ["topic", `${BOOKS}/3`],
      ["data", "sentinel-3"],
    ]);
    await other.receives("sentinel-3");
    assert.deepEqual(other.data, ["sentinel-3"]);
  });

  it("serves several selectors on one stream, each update once", async () => {
    const sub = await open(url, [
      ["topic", "news"],
      ["topic", "sports"],
      ["topic", `${BOOKS}/{id}`],
    ]);
    await published(url, publisher, [
      ["topic", "news"],
      ["data", "n1"],
    ]);
    await published(url, publisher, [
      ["topic", "weather"],
      ["data", "w1"],
    ]);
    await published(url, publisher, [
      ["topic", "sports"],
      ["topic", "news"],
      ["data", "s1"],
    ]);
    await published(url, publisher, [
      ["topic", `${BOOKS}/5`],
      ["data", "b5"],
    ]);
    await sub.receives("b5");
    assert.deepEqual(sub.data, ["n1", "s1", "b5"]);
  });

  it("matches URI templates, and not topics outside them", async () => {
    const template = await open(url, [["topic", `${BOOKS}/{id}`]]);
    const query = await open(url, [["topic", "https://example.com/users/alice/{?topic}"]]);
    const reserved = await open(url, [["topic", "https://example.com/files/{+path}"]]);
    const star = await open(url, [["topic", "*"]]);
    await published(url, publisher, [
      ["topic", `${BOOKS}/42`],
      ["data", "t-match"],
    ]);
    await published(url, publisher, [
      ["topic", `${BOOKS}/42/reviews`],
      ["data", "t-deeper"],
    ]);
    await published(url, publisher, [
      ["topic", "https://example.com/movies/42"],
      ["data", "t-other"],
    ]);
    await published(url, publisher, [
      ["topic", `https://example.com/users/alice/?topic=${encodeURIComponent(`${BOOKS}/42`)}`],
      ["data", "q-match"],
    ]);
    await published(url, publisher, [
      ["topic", "https://example.com/files/a/b/c.txt"],
      ["data", "r-match"],
    ]);
    // A template also matches itself, as a plain string.
    await published(url, publisher, [
      ["topic", `${BOOKS}/{id}`],
      ["data", "t-itself"],
    ]);
    await published(url, publisher, [
      ["topic", `${BOOKS}/end`],
      ["data", "t-end"],
    ]);
    await template.receives("t-end");
    assert.deepEqual(template.data, ["t-match", "t-itself", "t-end"]);
    await query.receives("q-match");
    assert.deepEqual(query.data, ["q-match"]);
    await reserved.receives("r-match");
    await star.receives("t-end");
    assert.equal(star.data.length, 7);
  });

  it("answers 400 for a missing topic, a template too complex, or another Content-Type", async () => {
    const noTopic = await httpRequest(`${url}${HUB}`);
    assert.equal(noTopic.status, 400);
    assert.match(noTopic.text, /missing "match".*\?topic=<selector> \(0\.x\)/);
    const emptyTopic = await httpRequest(`${url}${HUB}?topic=`);
    assert.equal(emptyTopic.status, 400);
    assert.match(emptyTopic.text, /"topic" must not be empty/);
    const heavy = `x${Array.from({ length: 12 }, (_, i) => `{v${i}:200}`).join("")}`;
    const complex = await httpRequest(`${url}${HUB}?topic=${encodeURIComponent(heavy)}`);
    assert.equal(complex.status, 400);
    assert.match(complex.text, /too complex/);
    const json = await httpRequest(`${url}${HUB}`, {
      method: "POST",
      headers: { authorization: `Bearer ${publisher}`, "content-type": "application/json" },
      body: '{"topic":"x"}',
    });
    assert.equal(json.status, 415);
    const latin1 = await httpRequest(`${url}${HUB}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${publisher}`,
        "content-type": 'application/x-www-form-urlencoded; charset="ISO-8859-1"',
      },
      body: "topic=x&data=caf%E9",
    });
    assert.equal(latin1.status, 415, latin1.text);
    assert.match(latin1.text, /charset "iso-8859-1" is not accepted; send the body as UTF-8/);
    const empty = await mercurePublish(url, [["data", "no topic"]], { authorization: `Bearer ${publisher}` });
    assert.equal(empty.status, 400);
    // HEAD answers the headers of a stream without opening one.
    const head = await fetch(`${url}${HUB}?topic=x`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.match(head.headers.get("content-type") ?? "", /^text\/event-stream/);
  });

  it("resumes from lastEventID (query) and Last-Event-ID (header, which wins), with the Last-Event-ID response header", async () => {
    const topic = "resume-topic";
    const ids: string[] = [];
    for (const n of [1, 2, 3])
      ids.push(
        await published(url, publisher, [
          ["topic", topic],
          ["data", `r${n}`],
        ]),
      );
    const fromQuery = await open(url, [
      ["topic", topic],
      ["lastEventID", ids[0]!],
    ]);
    await fromQuery.receives("r3");
    assert.deepEqual(fromQuery.data, ["r2", "r3"]);
    assert.equal(fromQuery.headers?.get("last-event-id"), ids[0]);

    const headerWins = await open(
      url,
      [
        ["topic", topic],
        ["lastEventID", ids[0]!],
      ],
      {
        headers: { "last-event-id": ids[1]! },
      },
    );
    await headerWins.receives("r3");
    assert.deepEqual(headerWins.data, ["r3"]);
    assert.equal(headerWins.headers?.get("last-event-id"), ids[1]);

    // Live events follow the replay with no gap.
    await published(url, publisher, [
      ["topic", topic],
      ["data", "r4"],
    ]);
    await fromQuery.receives("r4");
    assert.deepEqual(fromQuery.data, ["r2", "r3", "r4"]);

    const unknown = await open(url, [
      ["topic", topic],
      ["lastEventID", "urn:uuid:never-seen"],
    ]);
    assert.equal(unknown.headers?.get("last-event-id"), "earliest");
    const live = await open(url, [["topic", topic]]);
    assert.equal(live.headers?.get("last-event-id"), null, "no resume asked: no Last-Event-ID header");
    // HEAD answers what GET would: the resume outcome too, without a stream.
    const head = async (query: string, headers: Record<string, string> = {}) => {
      const answer = await fetch(`${url}${HUB}?topic=${topic}${query}`, { method: "HEAD", headers });
      assert.equal(answer.status, 200);
      return answer.headers.get("last-event-id");
    };
    assert.equal(await head(`&lastEventID=${encodeURIComponent(ids[0]!)}`), ids[0]);
    assert.equal(await head("", { "last-event-id": ids[1]! }), ids[1]);
    assert.equal(await head("&lastEventID=urn%3Auuid%3Anever-seen"), "earliest");
    assert.equal(await head(""), null);
  });

  it("resumes from an id a header cannot carry, and percent-encodes it in Last-Event-ID", async () => {
    const id = await published(url, publisher, [
      ["topic", "odd-ids"],
      ["id", "prix-10€-"],
      ["data", "o1"],
    ]);
    assert.equal(id, "prix-10€-");
    await published(url, publisher, [
      ["topic", "odd-ids"],
      ["data", "o2"],
    ]);
    const sub = await open(url, [
      ["topic", "odd-ids"],
      ["lastEventID", id],
    ]);
    await sub.receives("o2");
    assert.deepEqual(sub.data, ["o2"]);
    assert.equal(sub.headers?.get("last-event-id"), "prix-10%E2%82%AC-");
  });

  it("lets an EventSource reconnect by itself with Last-Event-ID and miss nothing", async () => {
    const sub = await open(url, [["topic", "reconnect"]]);
    // `retry` (ms) shortens the browser-side reconnection delay; Herald's default hint is 3 s.
    const first = await published(url, publisher, [
      ["topic", "reconnect"],
      ["retry", "50"],
      ["data", "before"],
    ]);
    await sub.receives("before");
    // The server drops every Mercure stream (as a restarted proxy would)...
    for (const connection of [...herald.mercure.context.connections]) connection.end("error");
    // ...an update is published while the client is away...
    await published(url, publisher, [
      ["topic", "reconnect"],
      ["data", "while away"],
    ]);
    // ...and the client comes back with Last-Event-ID: the id of "before".
    await sub.receives("while away");
    assert.deepEqual(sub.data, ["before", "while away"]);
    assert.equal(sub.requests.length, 2, "one reconnection");
    assert.equal(sub.requests[1]!["Last-Event-ID"], first);
  });

  it("sends everything the history holds for `earliest`", async () => {
    const topic = "earliest-topic";
    await published(url, publisher, [
      ["topic", topic],
      ["data", "e1"],
    ]);
    await published(url, publisher, [
      ["topic", "not-this-one"],
      ["data", "x"],
    ]);
    await published(url, publisher, [
      ["topic", topic],
      ["data", "e2"],
    ]);
    const sub = await open(url, [
      ["topic", topic],
      ["lastEventID", "earliest"],
    ]);
    await sub.receives("e2");
    assert.deepEqual(sub.data, ["e1", "e2"]);
    assert.equal(sub.headers?.get("last-event-id"), "earliest");
  });

  it("crosses APIs: Herald's /publish reaches Mercure subscribers, Mercure's publish reaches /events", async () => {
    const mercureSub = await open(url, [["topic", `${BOOKS}/{id}`]]);
    const heraldSub = new RawStream(`${url}/events?topic=${encodeURIComponent(`${BOOKS}/77`)}`);
    await heraldSub.opened();
    const fromHerald = await heraldPublish(url, { topic: `${BOOKS}/77`, data: "via herald" });
    assert.equal(fromHerald.status, 200);
    await mercureSub.receives("via herald");
    const id = await published(url, publisher, [
      ["topic", `${BOOKS}/77`],
      ["data", "via mercure"],
    ]);
    await heraldSub.until(() => heraldSub.text.includes(`id: ${id}\ndata: via mercure\n\n`));
    heraldSub.close();
    // One history: a Mercure subscriber resumes from a Herald id.
    const resumed = await open(url, [
      ["topic", `${BOOKS}/{id}`],
      ["lastEventID", (fromHerald.body as { id: string }).id],
    ]);
    await resumed.receives("via mercure");
  });
});

describe("Mercure authorization", () => {
  let herald: Herald;
  let url: string;
  const { open, closeAll } = listenerPool();

  before(async () => {
    herald = await startMercureHerald({ mercurePublishOrigins: ["https://app.example"] });
    url = herald.url;
  });
  after(async () => {
    closeAll();
    await herald.close();
  });

  it("sends a private update only to subscribers allowed one of its topics, never to anonymous ones", async () => {
    const publisher = await mercureToken({ publish: ["*"] });
    const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    const anonymous = await open(url, [["topic", `${BOOKS}/{id}`]]);
    const allowedCanonical = await open(
      url,
      [["topic", `${BOOKS}/{id}`]],
      bearer(await mercureToken({ subscribe: [`${BOOKS}/1`] })),
    );
    const allowedAlternate = await open(
      url,
      [["topic", `${BOOKS}/{id}`]],
      bearer(await mercureToken({ subscribe: ["https://example.com/users/alice/{?topic}"] })),
    );
    const allowedStar = await open(url, [["topic", "*"]], bearer(await mercureToken({ subscribe: ["*"] })));
    const otherBook = await open(
      url,
      [["topic", `${BOOKS}/{id}`]],
      bearer(await mercureToken({ subscribe: [`${BOOKS}/2`] })),
    );
    // Allowed on the topic but not subscribed to it: nothing.
    const notSubscribed = await open(
      url,
      [["topic", "https://example.com/elsewhere"]],
      bearer(await mercureToken({ subscribe: ["*"] })),
    );
    await published(url, publisher, [
      ["topic", `${BOOKS}/1`],
      ["topic", `https://example.com/users/alice/?topic=${encodeURIComponent(`${BOOKS}/1`)}`],
      ["data", "secret"],
      ["private", "on"],
    ]);
    // `private` with any value (even empty) is private.
    await published(url, publisher, [
      ["topic", `${BOOKS}/1`],
      ["data", "secret-2"],
      ["private", ""],
    ]);
    await published(url, publisher, [
      ["topic", `${BOOKS}/1`],
      ["data", "public"],
    ]);
    await published(url, publisher, [
      ["topic", "https://example.com/elsewhere"],
      ["data", "public-elsewhere"],
    ]);
    for (const sub of [anonymous, allowedCanonical, allowedAlternate, otherBook, allowedStar]) {
      await sub.receives("public");
    }
    await notSubscribed.receives("public-elsewhere");
    assert.deepEqual(anonymous.data, ["public"]);
    assert.deepEqual(otherBook.data, ["public"]);
    assert.deepEqual(notSubscribed.data, ["public-elsewhere"]);
    assert.deepEqual(allowedCanonical.data, ["secret", "secret-2", "public"]);
    assert.deepEqual(allowedAlternate.data, ["secret", "public"]);
    await allowedStar.receives("public-elsewhere");
    assert.deepEqual(allowedStar.data, ["secret", "secret-2", "public", "public-elsewhere"]);

    // Replay applies the same rule: an anonymous `earliest` gets no private update.
    const anonymousReplay = await open(url, [
      ["topic", `${BOOKS}/1`],
      ["lastEventID", "earliest"],
    ]);
    await anonymousReplay.receives("public");
    assert.deepEqual(anonymousReplay.data, ["public"]);
  });

  it("reads the token from the authorization query parameter and the mercureAuthorization cookie", async () => {
    const publisher = await mercureToken({ publish: ["*"] });
    const subscriber = await mercureToken({ subscribe: ["cookie-topic"] });
    const viaQuery = await open(url, [
      ["topic", "cookie-topic"],
      ["authorization", subscriber],
    ]);
    const viaCookie = await open(url, [["topic", "cookie-topic"]], {
      headers: { cookie: `other=1; mercureAuthorization=${subscriber}` },
    });
    await published(url, publisher, [
      ["topic", "cookie-topic"],
      ["data", "p"],
      ["private", "on"],
    ]);
    await viaQuery.receives("p");
    await viaCookie.receives("p");
    // The Authorization header wins: a bad header fails even with a good query token.
    const headerWins = await httpRequest(`${url}${HUB}?topic=x&authorization=${subscriber}`, {
      headers: { authorization: "Bearer not.a.jwt" },
    });
    assert.equal(headerWins.status, 401);
  });

  it("refuses bad tokens with 401 and WWW-Authenticate", async () => {
    const wrongKey = await mercureToken(
      { publish: ["*"], subscribe: ["*"] },
      { secret: "another-secret-another-secret!!" },
    );
    const expired = await mercureToken({ publish: ["*"] }, { expiresInSec: -60 });
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    const none = `${b64({ alg: "none", typ: "JWT" })}.${b64({ mercure: { publish: ["*"] } })}.`;
    for (const [token, reason] of [
      [wrongKey, /bad signature/],
      [expired, /expired/],
      [none, /alg "none"/],
      ["garbage", /malformed/],
    ] as const) {
      const sub = await httpRequest(`${url}${HUB}?topic=x`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(sub.status, 401, sub.text);
      assert.match(sub.headers["www-authenticate"] as string, /^Bearer .*error="invalid_token"/);
      assert.match(sub.text, reason);
      const pub = await mercurePublish(
        url,
        [
          ["topic", "x"],
          ["data", "d"],
        ],
        { authorization: `Bearer ${token}` },
      );
      assert.equal(pub.status, 401, pub.text);
      assert.match(pub.text, reason);
    }
    const noToken = await mercurePublish(url, [
      ["topic", "x"],
      ["data", "d"],
    ]);
    assert.equal(noToken.status, 401);
    assert.match(noToken.text, /needs an access token/);
  });

  it("refuses with 403 a publisher not allowed every topic, and publishes nothing then", async () => {
    const sub = await open(url, [["topic", "*"]], {
      headers: { authorization: `Bearer ${await mercureToken({ subscribe: ["*"] })}` },
    });
    const booksOnly = await mercureToken({ publish: [`${BOOKS}/{id}`] });
    const allowed = await published(url, booksOnly, [
      ["topic", `${BOOKS}/9`],
      ["data", "ok-9"],
    ]);
    assert.match(allowed, /^urn:uuid:/);
    const mixed = await mercurePublish(
      url,
      [
        ["topic", `${BOOKS}/9`],
        ["topic", "https://example.com/movies/9"],
        ["data", "refused"],
      ],
      { authorization: `Bearer ${booksOnly}` },
    );
    assert.equal(mixed.status, 403);
    assert.match(mixed.headers.get("www-authenticate") ?? "", /insufficient_scope/);
    assert.match(mixed.text, /movies\/9/);
    const noClaim = await mercurePublish(
      url,
      [
        ["topic", "a"],
        ["data", "refused"],
      ],
      {
        authorization: `Bearer ${await mercureToken({ subscribe: ["*"] })}`,
      },
    );
    assert.equal(noClaim.status, 403);
    // The hub's own namespace cannot be published to, whatever the token.
    const forged = await mercurePublish(
      url,
      [
        ["topic", "/.well-known/mercure/subscriptions/x/y"],
        ["data", "refused"],
      ],
      { authorization: `Bearer ${await mercureToken({ publish: ["*"] })}` },
    );
    assert.equal(forged.status, 403);
    await published(url, booksOnly, [
      ["topic", `${BOOKS}/10`],
      ["data", "ok-10"],
    ]);
    await sub.receives("ok-10");
    assert.deepEqual(sub.data, ["ok-9", "ok-10"]);
  });

  it("guards cookie publishing against CSRF with publish origins", async () => {
    const cookie = `mercureAuthorization=${await mercureToken({ publish: ["*"] })}`;
    const noOrigin = await mercurePublish(
      url,
      [
        ["topic", "c"],
        ["data", "d"],
      ],
      { cookie },
    );
    assert.equal(noOrigin.status, 401);
    assert.match(noOrigin.text, /Origin/);
    const badOrigin = await mercurePublish(
      url,
      [
        ["topic", "c"],
        ["data", "d"],
      ],
      {
        cookie,
        origin: "https://evil.example",
      },
    );
    assert.equal(badOrigin.status, 403);
    const good = await mercurePublish(
      url,
      [
        ["topic", "c"],
        ["data", "d"],
      ],
      {
        cookie,
        origin: "https://app.example",
      },
    );
    assert.equal(good.status, 200, good.text);
    const viaReferer = await mercurePublish(
      url,
      [
        ["topic", "c"],
        ["data", "d"],
      ],
      {
        cookie,
        referer: "https://app.example/page",
      },
    );
    assert.equal(viaReferer.status, 200, viaReferer.text);
  });

  it("closes the stream when the subscriber's token expires", async () => {
    const token = await mercureToken({ subscribe: ["*"] }, { expiresInSec: 2 });
    const stream = new RawStream(`${url}${HUB}?topic=expiring`, { authorization: `Bearer ${token}` });
    await stream.opened();
    assert.equal(stream.status, 200);
    await stream.until(() => stream.closed, 6000);
    assert.match(stream.text, /: token expired\n\n$/, "told why, as Herald's streams are");
  });
});

describe("Mercure: anonymous subscribers refused, publishing off without a key", () => {
  it("answers 401 to anonymous subscribers when MERCURE_ANONYMOUS is off", async () => {
    const herald = await startMercureHerald({ mercureAnonymous: false });
    try {
      const anonymous = await httpRequest(`${herald.url}${HUB}?topic=x`);
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.text, /anonymous/);
      const token = await mercureToken({ subscribe: [] });
      const stream = new RawStream(`${herald.url}${HUB}?topic=x`, { authorization: `Bearer ${token}` });
      await stream.opened();
      stream.close();
    } finally {
      await herald.close();
    }
  });

  it("keeps Mercure publishing off without a key, and every subscriber anonymous", async () => {
    const herald = await startMercureHerald({ mercureJwtKey: "" });
    try {
      const token = await mercureToken({ publish: ["*"] });
      const answer = await mercurePublish(
        herald.url,
        [
          ["topic", "x"],
          ["data", "d"],
        ],
        {
          authorization: `Bearer ${token}`,
        },
      );
      assert.equal(answer.status, 401);
      assert.match(answer.text, /MERCURE_PUBLISHER_JWT_KEY/);
      const stream = new RawStream(`${herald.url}${HUB}?topic=x`);
      await stream.opened();
      stream.close();
    } finally {
      await herald.close();
    }
  });

  it("uses a separate subscriber key when one is set", async () => {
    const subscriberSecret = "subscriber-secret-subscriber-secret!";
    const herald = await startMercureHerald({
      mercureSubscriberJwtKey: subscriberSecret,
      mercureAnonymous: false,
    });
    try {
      const good = await mercureToken({ subscribe: ["*"] }, { secret: subscriberSecret });
      const stream = new RawStream(`${herald.url}${HUB}?topic=x`, { authorization: `Bearer ${good}` });
      await stream.opened();
      stream.close();
      const publisherKeyToken = await mercureToken({ subscribe: ["*"] }, { secret: SECRET });
      const refused = await httpRequest(`${herald.url}${HUB}?topic=x`, {
        headers: { authorization: `Bearer ${publisherKeyToken}` },
      });
      assert.equal(refused.status, 401);
    } finally {
      await herald.close();
    }
  });
  it("falls back to Herald's own key when no MERCURE_* key is set", async () => {
    const heraldSecret = "herald-secret-herald-secret-herald!";
    const herald = await startMercureHerald({ mercureJwtKey: "", jwtSecret: heraldSecret });
    try {
      const token = await mercureToken({ publish: ["*"] }, { secret: heraldSecret });
      const id = await published(herald.url, token, [
        ["topic", "x"],
        ["data", "d"],
      ]);
      assert.match(id, /^urn:uuid:/);
    } finally {
      await herald.close();
    }
  });

  it("accepts Herald's own claim too, in Herald's selector syntax", async () => {
    const herald = await startMercureHerald();
    try {
      const token = await mintHs256(SECRET, { herald: { publish: ["orders/*"] } });
      const auth = { authorization: `Bearer ${token}` };
      const ok = await mercurePublish(
        herald.url,
        [
          ["topic", "orders/42"],
          ["data", "d"],
        ],
        auth,
      );
      assert.equal(ok.status, 200, ok.text);
      const refused = await mercurePublish(
        herald.url,
        [
          ["topic", "invoices/1"],
          ["data", "d"],
        ],
        auth,
      );
      assert.equal(refused.status, 403);
    } finally {
      await herald.close();
    }
  });

  it("shares Herald's limits: publish rate per token, streams per IP, event size", async () => {
    const herald = await startMercureHerald({
      publishRate: 1,
      publishBurst: 1,
      maxConnectionsPerIp: 1,
      maxEventBytes: 100,
    });
    try {
      const token = await mercureToken({ publish: ["*"] });
      const auth = { authorization: `Bearer ${token}` };
      const big = await mercurePublish(
        herald.url,
        [
          ["topic", "x"],
          ["data", "x".repeat(101)],
        ],
        auth,
      );
      assert.equal(big.status, 413, big.text);
      const second = await mercurePublish(
        herald.url,
        [
          ["topic", "x"],
          ["data", "d"],
        ],
        auth,
      );
      assert.equal(second.status, 429, second.text);
      assert.ok(Number(second.headers.get("retry-after")) >= 1);
      const first = new RawStream(`${herald.url}${HUB}?topic=x`);
      await first.opened();
      const over = await httpRequest(`${herald.url}/events?topic=x`);
      assert.equal(over.status, 429, "a Mercure stream counts in Herald's per-IP limit");
      first.close();
      await first.until(() => first.closed);
    } finally {
      await herald.close();
    }
  });
});
