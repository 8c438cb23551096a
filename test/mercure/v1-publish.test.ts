import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, RawStream } from "../helpers/herald.ts";
import { HUB, mercurePublish, mercureToken, SECRET } from "./helpers.ts";
import { accessToken, DETAIL, detail, ISSUER, resourceOf, startModernHerald } from "./v1-helpers.ts";

const METADATA = "/.well-known/oauth-protected-resource/.well-known/mercure";

describe("Mercure 1.0: access tokens, RFC 6750 errors and publishing", () => {
  let herald: Herald;
  let url: string;
  let aud: string;
  let publisher: string;
  const streams: RawStream[] = [];

  before(async () => {
    herald = await startModernHerald();
    url = herald.url;
    aud = resourceOf(url);
    publisher = await accessToken(aud, [detail(["publish"], ["*"])]);
  });
  after(async () => {
    for (const s of streams) s.close();
    await herald.close();
  });

  const post = (fields: [string, string][], token?: string, headers: Record<string, string> = {}) =>
    mercurePublish(url, fields, {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...headers,
    });
  const watch = async (topic: string) => {
    const stream = new RawStream(`${url}/events?topic=${encodeURIComponent(topic)}`);
    streams.push(stream);
    await stream.opened();
    return stream;
  };

  it("publishes with an at+jwt token whose publish detail matches every topic, and answers the id", async () => {
    const stream = await watch("https://example.com/books/1");
    const token = await accessToken(aud, [
      detail(["publish"], [{ match: "https://example.com/books/:id", match_type: "urlpattern" }]),
    ]);
    const answer = await post(
      [
        ["topic", "https://example.com/books/1"],
        ["data", "dune"],
        ["id", "urn:book:1"],
      ],
      token,
    );
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.text, "urn:book:1");
    assert.match(answer.headers.get("content-type") ?? "", /^text\/plain; charset=utf-8/);
    await stream.until(() => stream.text.includes("data: dune"));
  });

  it("answers a missing token with 401 and a bare Bearer challenge naming the resource metadata", async () => {
    const answer = await post([["topic", "a"]]);
    assert.equal(answer.status, 401);
    assert.equal(answer.headers.get("www-authenticate"), `Bearer resource_metadata="${url}${METADATA}"`);
  });

  it("answers every bad token with 401 invalid_token", async () => {
    const publish = [detail(["publish"], ["*"])];
    const cases: [string, Promise<string> | string, RegExp][] = [
      ["typ JWT", accessToken(aud, publish, { typ: "JWT" }), /typ/],
      ["no typ", accessToken(aud, publish, { typ: undefined }), /typ/],
      ["no exp", accessToken(aud, publish, { expiresIn: null }), /exp/],
      ["expired", accessToken(aud, publish, { expiresIn: -60 }), /expired/],
      [
        "wrong aud",
        accessToken(aud, publish, { audience: "https://other.example/.well-known/mercure" }),
        /audience/,
      ],
      ["untrusted iss", accessToken(aud, publish, { issuer: "https://evil.example" }), /untrusted issuer/],
      ["bad signature", accessToken(aud, publish, { secret: `${SECRET}x` }), /signature/],
      [
        "alg none",
        `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString("base64url")}.${Buffer.from(
          JSON.stringify({ iss: ISSUER, aud, exp: 4102444800, authorization_details: publish }),
        ).toString("base64url")}.`,
        /none/,
      ],
      [
        "one invalid detail among good ones",
        accessToken(aud, [...publish, { type: DETAIL, actions: ["publish"], topics: ["bare-string"] }]),
        /authorization details/,
      ],
      [
        "unknown match_type",
        accessToken(aud, [detail(["publish"], [{ match: "x", match_type: "URLPattern" }])]),
        /match_type/,
      ],
      [
        "empty actions",
        accessToken(aud, [{ type: DETAIL, actions: [], topics: [{ match: "*" }] }]),
        /actions/,
      ],
      [
        "non-string action",
        accessToken(aud, [{ type: DETAIL, actions: ["publish", 3], topics: [{ match: "*" }] }]),
        /actions/,
      ],
      ["payload not an object", accessToken(aud, [detail(["subscribe"], ["*"], "text")]), /payload/],
      [
        "invalid URL pattern",
        accessToken(aud, [detail(["publish"], [{ match: "https://x/:a(", match_type: "urlpattern" }])]),
        /match/,
      ],
      ["a Mercure 0.x token", mercureToken({ publish: ["*"] }), /0\.x token/],
    ];
    for (const [name, tokenPromise, reason] of cases) {
      const answer = await post([["topic", "a"]], await tokenPromise);
      assert.equal(answer.status, 401, `${name}: ${answer.text}`);
      const challenge = answer.headers.get("www-authenticate") ?? "";
      assert.match(
        challenge,
        /^Bearer error="invalid_token", error_description=".+", resource_metadata="/,
        name,
      );
      assert.match(answer.text, reason, name);
    }
  });

  it("answers 403 insufficient_scope when the token does not allow every topic, and publishes nothing", async () => {
    const stream = await watch("scoped/a");
    const token = await accessToken(aud, [
      detail(["publish"], ["scoped/a"]),
      detail(["subscribe"], ["scoped/b"]),
    ]);
    const answer = await post(
      [
        ["topic", "scoped/a"],
        ["topic", "scoped/b"],
        ["data", "never"],
      ],
      token,
    );
    assert.equal(answer.status, 403);
    assert.match(answer.headers.get("www-authenticate") ?? "", /^Bearer error="insufficient_scope"/);
    const subscribeOnly = await accessToken(aud, [detail(["subscribe", "future-action"], ["*"])]);
    assert.equal((await post([["topic", "scoped/a"]], subscribeOnly)).status, 403);
    const ok = await post(
      [
        ["topic", "scoped/a"],
        ["data", "allowed"],
      ],
      token,
    );
    assert.equal(ok.status, 200);
    await stream.until(() => stream.text.includes("data: allowed"));
    assert.doesNotMatch(stream.text, /never/);
  });

  it("answers a malformed token presentation with 400 invalid_request, and reads no query-string token", async () => {
    const basic = await post([["topic", "a"]], undefined, { authorization: "Basic dXNlcjpwYXNz" });
    assert.equal(basic.status, 400);
    assert.match(basic.headers.get("www-authenticate") ?? "", /^Bearer error="invalid_request"/);
    const two = await post([["topic", "a"]], undefined, {
      authorization: `Bearer ${publisher} ${publisher}`,
    });
    assert.equal(two.status, 400);
    const query = await fetch(`${url}${HUB}?authorization=${publisher}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "topic=a",
    });
    assert.equal(query.status, 401);
    assert.doesNotMatch(query.headers.get("www-authenticate") ?? "", /error=/);
  });

  it("takes the token from the __Secure-mercure_access_token cookie, the header winning over it", async () => {
    const cookie = { cookie: `__Secure-mercure_access_token=${publisher}`, origin: "https://app.example" };
    const noOrigin = await post([["topic", "a"]], undefined, { cookie: cookie.cookie });
    assert.equal(noOrigin.status, 400, noOrigin.text);
    assert.match(noOrigin.headers.get("www-authenticate") ?? "", /invalid_request/);
    const refused = await post([["topic", "a"]], undefined, cookie);
    assert.equal(refused.status, 400);
    assert.match(refused.text, /MERCURE_PUBLISH_ORIGINS/);
    const headerWins = await post([["topic", "a"]], publisher, {
      cookie: "__Secure-mercure_access_token=garbage",
    });
    assert.equal(headerWins.status, 200);
  });

  it("refuses topic *, type mercure, id earliest, control characters and the reserved namespace with 400", async () => {
    const cases: [string, [string, string][]][] = [
      ["topic *", [["topic", "*"]]],
      [
        "type mercure",
        [
          ["topic", "a"],
          ["type", "mercure"],
        ],
      ],
      [
        "id earliest",
        [
          ["topic", "a"],
          ["id", "earliest"],
        ],
      ],
      [
        "id with a control character",
        [
          ["topic", "a"],
          ["id", "a\u0001b"],
        ],
      ],
      [
        "type with a format character",
        [
          ["topic", "a"],
          ["type", "x\u200by"],
        ],
      ],
      ["topic with a format character", [["topic", "a\u202eb"]]],
      [
        "retry not digits",
        [
          ["topic", "a"],
          ["retry", "-1"],
        ],
      ],
      ["reserved namespace", [["topic", "/.well-known/mercure/subscriptions/exact/a/b"]]],
      ["reserved namespace, absolute", [["topic", "https://anything.example/.well-known/mercure/x"]]],
      ["reserved namespace, percent-encoded", [["topic", "/.well-known/%6Dercure/x"]]],
      ["reserved namespace, dot segments", [["topic", "/.well-known/mercure/../mercure/x"]]],
      ["the hub URL itself", [["topic", "https://h.example/.well-known/mercure"]]],
    ];
    for (const [name, fields] of cases) {
      const answer = await post(fields, publisher);
      assert.equal(answer.status, 400, `${name}: ${answer.status} ${answer.text}`);
    }
    // not reserved: another path that merely starts alike, and strings that are not URL references
    assert.equal((await post([["topic", "/.well-known/mercurex"]], publisher)).status, 200);
  });

  it("refuses a form that is not UTF-8, in its bytes or in a percent escape, with 400", async () => {
    // spec "Publication": data "MUST be valid UTF-8"; URLSearchParams would put U+FFFD in silence
    const raw = async (body: string | number[]) => {
      const response = await fetch(`${url}${HUB}`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: `Bearer ${publisher}`,
        },
        body: typeof body === "string" ? body : Uint8Array.from(body),
      });
      return { status: response.status, text: await response.text() };
    };
    for (const body of [
      "topic=a&data=%ED%A0%80", // a lone surrogate's bytes
      "topic=a&data=x%FFy",
      "topic=a%C3&data=x", // a cut multibyte character
      [...Buffer.from("topic=a&data="), 0xff, 0xfe],
    ]) {
      const answer = await raw(body);
      assert.equal(answer.status, 400, `${String(body)}: ${answer.text}`);
      assert.match(answer.text, /not valid UTF-8/);
    }
    // UTF-8 in escapes and a literal % that starts no escape still publish
    assert.equal((await raw("topic=a&data=%C3%A9t%C3%A9+50%25")).status, 200);
    assert.equal((await raw("topic=a&data=50% off")).status, 200);
  });

  it("answers 413 for an update over the limits on its topic fields and field lengths, and publishes nothing", async () => {
    // spec "Publication": maximums on the body, the length of fields and the number of topic
    // fields; "Requests exceeding any such limit MUST be rejected with a 413"
    const stream = await watch("limits");
    const cases: [string, [string, string][]][] = [
      [
        "33 topic fields (HERALD_MAX_TOPICS 32)",
        Array.from({ length: 33 }, (): [string, string] => ["topic", "limits"]),
      ],
      [
        "a topic of 257 characters (HERALD_MAX_TOPIC_LENGTH 256)",
        [
          ["topic", "limits"],
          ["topic", `https://example.com/${"x".repeat(237)}`],
        ],
      ],
      [
        "an id of 257 characters",
        [
          ["topic", "limits"],
          ["id", `urn:${"x".repeat(253)}`],
        ],
      ],
      [
        "a type of 257 characters",
        [
          ["topic", "limits"],
          ["type", "t".repeat(257)],
        ],
      ],
    ];
    for (const [name, fields] of cases) {
      const answer = await post([...fields, ["data", "over"]], publisher);
      assert.equal(answer.status, 413, `${name}: ${answer.status} ${answer.text}`);
      assert.match(answer.text, /limit/, name);
    }
    assert.equal(
      (
        await post(
          [
            ["topic", "limits"],
            ["data", "within"],
          ],
          publisher,
        )
      ).status,
      200,
    );
    await stream.until(() => stream.text.includes("data: within"));
    assert.doesNotMatch(stream.text, /data: over/);
  });

  it("dispatches an update whose id is reused, even the same update sent twice", async () => {
    const stream = await watch("reused");
    const fields: [string, string][] = [
      ["topic", "reused"],
      ["id", "urn:same"],
      ["data", "same"],
    ];
    assert.equal((await post(fields, publisher)).text, "urn:same");
    assert.equal((await post(fields, publisher)).text, "urn:same");
    await stream.until(() => (stream.text.match(/data: same/g) ?? []).length === 2);
  });

  it("serves the RFC 9728 protected-resource metadata", async () => {
    const answer = await httpRequest(`${url}${METADATA}`);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, {
      resource: aud,
      authorization_details_types_supported: [DETAIL],
      bearer_methods_supported: ["header"],
      mercure_cookie: "__Secure-mercure_access_token",
      mercure_matcher_types_supported: ["exact", "urlpattern"],
    });
  });
});

describe("Mercure 1.0: a pinned resource identifier", () => {
  let herald: Herald;
  before(async () => {
    herald = await startModernHerald({ mercureResourceIdentifier: "https://localhost/.well-known/mercure" });
  });
  after(() => herald.close());

  it("accepts tokens for it from a hub reached at 127.0.0.1, and refuses the derived audience", async () => {
    const publish = [detail(["publish"], ["*"])];
    const pinned = await accessToken("https://localhost/.well-known/mercure", publish);
    const ok = await mercurePublish(herald.url, [["topic", "x"]], { authorization: `Bearer ${pinned}` });
    assert.equal(ok.status, 200, ok.text);
    const derived = await accessToken(resourceOf(herald.url), publish);
    const refused = await mercurePublish(herald.url, [["topic", "x"]], {
      authorization: `Bearer ${derived}`,
    });
    assert.equal(refused.status, 401);
    assert.equal(
      refused.headers
        .get("www-authenticate")
        ?.includes(
          'resource_metadata="https://localhost/.well-known/oauth-protected-resource/.well-known/mercure"',
        ),
      true,
    );
    const metadata = await httpRequest(`${herald.url}${METADATA}`);
    assert.equal((metadata.body as { resource: string }).resource, "https://localhost/.well-known/mercure");
  });
});

describe("Mercure 1.0: start-up", () => {
  it("refuses to start with a MERCURE_* key and no MERCURE_ISSUER, unless in compatibility mode", async () => {
    await assert.rejects(startModernHerald({ mercureIssuer: "" }), /MERCURE_ISSUER/);
    const compat = await startModernHerald({ mercureIssuer: "", mercureProtocolCompatibility: 8 });
    await compat.close();
  });
});
