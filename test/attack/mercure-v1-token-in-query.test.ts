import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { HUB, mercurePublish } from "../mercure/helpers.ts";
import { accessToken, detail, resourceOf, startModernHerald } from "../mercure/v1-helpers.ts";

/**
 * Promise (spec/mercure.md, 1.0.0-alpha.3, "Presenting the Access Token"): "The `access_token` URI
 * query parameter of RFC 6750 section 2.3 is not part of this specification: the OAuth 2.0 Security
 * Best Current Practice [RFC 9700] forbids clients from passing access tokens in the URI query
 * string, and hubs implementing this specification do not accept it." docs/mercure.md, "Access
 * tokens (1.0)": "There is no query-string token (RFC 9700)"; its table "1.0 and 0.x on one hub"
 * puts the `authorization` query parameter in the 0.x column only; the start warning of
 * compatibility mode says "0.x tokens ... may come in the URL"; and "Where the spec and the Mercure
 * hub differ, Herald follows the spec".
 *
 * Found (2026-12-03): with MERCURE_PROTOCOL_VERSION_COMPATIBILITY=8, a 1.0 access token (typ
 * at+jwt, authorization_details) is read from `?authorization=` too, on a 1.0 subscription
 * (`match=`): it authorizes private updates and subscription events, so 1.0 tokens work in URLs
 * (and so end up in access logs and browser histories) as soon as a hub serves 0.x clients.
 * Cause: packages/herald/src/mercure/auth.ts `MercureAuth.token` reads the query parameter for any
 * token in compatibility mode; `claims` then verifies an access token found there like one from
 * the header (the Go hub's legacyAuthQueryParam does the same; the spec and Herald's docs do not).
 */
describe("Mercure compatibility mode: a 1.0 access token in ?authorization=", () => {
  let herald: Herald;
  let publisher: string;
  let reader: string;
  before(async () => {
    herald = await startModernHerald({ mercureProtocolCompatibility: 8 });
    publisher = await accessToken(resourceOf(herald.url), [detail(["publish"], ["*"])]);
    reader = await accessToken(resourceOf(herald.url), [detail(["subscribe"], ["*"])]);
  });
  after(() => herald.close());

  it("does not authorize private updates from the URL", async () => {
    const topic = "https://example.com/orders/1";
    const published = await mercurePublish(
      herald.url,
      [
        ["topic", topic],
        ["data", "private order"],
        ["private", "on"],
      ],
      { authorization: `Bearer ${publisher}` },
    );
    assert.equal(published.status, 200, published.text);

    const query = new URLSearchParams([
      ["match", topic],
      ["last_event_id", "earliest"],
      ["authorization", reader],
    ]);
    const controller = new AbortController();
    const response = await fetch(`${herald.url}${HUB}?${query}`, { signal: controller.signal });
    let body = "";
    if (response.status === 200 && response.body !== null) {
      const chunks = response.body.getReader();
      const timer = setTimeout(() => controller.abort(), 500);
      try {
        for (;;) {
          const { value, done } = await chunks.read();
          if (done) break;
          body += new TextDecoder().decode(value);
        }
      } catch {
        // aborted: the stream stays open
      }
      clearTimeout(timer);
    } else {
      controller.abort();
    }
    assert.doesNotMatch(body, /private order/, "a 1.0 token read from the URL authorized a private update");
  });
});
