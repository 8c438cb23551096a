import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, RawStream } from "../helpers/herald.ts";
import { HUB, mercurePublish } from "./helpers.ts";
import { accessToken, detail, startModernHerald } from "./v1-helpers.ts";

const METADATA = "/.well-known/oauth-protected-resource/.well-known/mercure";
const PUBLIC = "https://hub.example";
const OTHER = "https://alt.example:8443";

/** The headers a trusted proxy adds for a client that reached `origin`. */
function via(origin: string): Record<string, string> {
  const url = new URL(origin);
  return { "x-forwarded-proto": url.protocol.slice(0, -1), "x-forwarded-host": url.host };
}

/**
 * MERCURE_PUBLIC_URLS (the Mercure hub's `public_urls`): a request whose origin (scheme and host,
 * from the request, or from X-Forwarded-* behind a trusted proxy) is not listed gets 421
 * Misdirected Request on every Mercure route; a listed one gets the identity derived from it, so
 * a token's `aud` must be the hub URL of the public URL the client contacted.
 */
describe("Mercure: the public URLs allowlist (MERCURE_PUBLIC_URLS)", () => {
  let herald: Herald;
  const streams: RawStream[] = [];

  before(async () => {
    herald = await startModernHerald({
      trustProxy: true,
      mercurePublicUrls: [PUBLIC, `${OTHER}/some/path`],
      mercureSubscriptions: true,
    });
  });
  after(async () => {
    for (const stream of streams) stream.close();
    await herald.close();
  });

  it("answers 421 on every Mercure route to an origin that is not listed, and says how to fix it", async () => {
    const publisher = await accessToken(`${herald.url}${HUB}`, [detail(["publish"], ["*"])]);
    const requests: [string, string, Record<string, string>, string?][] = [
      ["GET", `${HUB}?match=a`, {}],
      ["HEAD", `${HUB}?match=a`, {}],
      ["QUERY", HUB, { "content-type": "application/x-www-form-urlencoded" }, "match=a"],
      [
        "POST",
        HUB,
        { "content-type": "application/x-www-form-urlencoded", authorization: `Bearer ${publisher}` },
        "topic=a&data=x",
      ],
      ["GET", METADATA, {}],
      ["GET", `${HUB}/subscriptions`, {}],
      ["GET", `${HUB}?match=a`, via("http://hub.example")], // the scheme is pinned too
      ["GET", `${HUB}?match=a`, via("https://hub.example:8443")], // and the port
      ["GET", `${HUB}?match=a`, via("https://evil.example")],
    ];
    for (const [method, path, headers, body] of requests) {
      const answer = await httpRequest(`${herald.url}${path}`, { method, headers, body });
      const what = `${method} ${path} ${JSON.stringify(headers)}`;
      assert.equal(answer.status, 421, `${what}: ${answer.text}`);
      assert.match(String(answer.headers["content-type"]), /^text\/plain/, what);
      if (method !== "HEAD") assert.match(answer.text, /^Misdirected Request: .*MERCURE_PUBLIC_URLS/, what);
    }
    assert.equal(
      (await httpRequest(`${herald.url}/healthz`)).status,
      200,
      "Herald's own routes are not concerned",
    );
  });

  it("serves a listed origin (host in any case, default port or not), with the identity derived from it", async () => {
    for (const origin of [PUBLIC, "https://HUB.example:443", OTHER]) {
      const stream = new RawStream(`${herald.url}${HUB}?match=a`, via(origin));
      streams.push(stream);
      await stream.until(() => stream.status !== 0);
      assert.equal(stream.status, 200, `${origin}: ${stream.text}`);
    }
    const metadata = await httpRequest(`${herald.url}${METADATA}`, { headers: via(OTHER) });
    assert.equal(metadata.status, 200, metadata.text);
    assert.equal((metadata.body as { resource: string }).resource, `${OTHER}${HUB}`);
  });

  it("takes a token only for the public URL the client contacted (its aud)", async () => {
    const token = await accessToken(`${PUBLIC}${HUB}`, [detail(["publish"], ["*"])]);
    const fields: [string, string][] = [
      ["topic", "https://example.com/public-urls"],
      ["data", "x"],
    ];
    const here = await mercurePublish(herald.url, fields, {
      authorization: `Bearer ${token}`,
      ...via(PUBLIC),
    });
    assert.equal(here.status, 200, here.text);
    const there = await mercurePublish(herald.url, fields, {
      authorization: `Bearer ${token}`,
      ...via(OTHER),
    });
    assert.equal(there.status, 401, there.text);
    assert.match(String(there.headers.get("www-authenticate")), /error="invalid_token"/);
  });
});

describe("Mercure: MERCURE_PUBLIC_URLS values are checked at start", () => {
  it("refuses to start with a value that is not an absolute http(s) URL", async () => {
    for (const value of ["hub.example", "/.well-known/mercure", "ftp://hub.example", "https://"]) {
      await assert.rejects(
        startModernHerald({ mercurePublicUrls: [value] }),
        (error: Error) =>
          /MERCURE_PUBLIC_URLS/.test(error.message) && error.message.includes(JSON.stringify(value)),
        value,
      );
    }
  });
});
