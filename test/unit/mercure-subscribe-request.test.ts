import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { describe, it } from "node:test";
import { HeraldError } from "../../packages/herald/src/core/errors.ts";
import { parseSubscribeRequest } from "../../packages/herald/src/mercure/v1/subscribe-request.ts";

const LIMITS = { compat: false, maxMatchers: 4, maxLength: 40 };
const parse = (query: string, options: { compat?: boolean; header?: string } = {}) =>
  parseSubscribeRequest(
    { headers: options.header === undefined ? {} : { "last-event-id": options.header } } as IncomingMessage,
    new URL(`http://hub/.well-known/mercure?${query}`),
    { ...LIMITS, compat: options.compat ?? false },
  );
const refused = (query: string, pattern: RegExp, compat = false) =>
  assert.throws(
    () => parse(query, { compat }),
    (e: unknown) => e instanceof HeraldError && e.code === "bad_request" && pattern.test(e.message),
    query,
  );

describe("Mercure 1.0 subscribe parameters", () => {
  it("reads match, match_exact and match_urlpattern, deduplicated, and last_event_id", () => {
    const request = parse(
      "match=a&match_exact=a&match_urlpattern=https%3A%2F%2Fx%2F%3Aid&match=b+c&last_event_id=urn%3A1",
    );
    assert.equal(request.generation, 1);
    assert.deepEqual(request.matchers, [
      { type: "exact", match: "a" },
      { type: "urlpattern", match: "https://x/:id" },
      { type: "exact", match: "b c" },
    ]);
    assert.equal(request.lastEventId, "urn:1");
    assert.equal(parse("match=a&last_event_id=q", { header: "h" }).lastEventId, "h");
    assert.equal(parse("match=a&last_event_id=earliest").lastEventId, "earliest");
  });

  it("refuses other names of the match namespace, topic outside compatibility mode, and bad values with 400", () => {
    refused("match=a&Match=b", /unknown subscribe parameter "Match"/);
    refused("match_URLPattern=a", /unknown subscribe parameter/);
    refused("matchRegexp=a", /unknown subscribe parameter/);
    refused("match_uritemplate=a", /unknown subscribe parameter/);
    refused("topic=a", /0\.x/);
    refused("other=1", /missing "match"/);
    refused("match=%FF", /not valid UTF-8/);
    refused("match=a%01b", /control or format/);
    refused("match=a%E2%80%8Bb", /control or format/);
    refused("match=1&match=2&match=3&match=4&match=5", /at most 4/);
    refused(`match=${"x".repeat(41)}`, /limit is 40/);
  });

  it("reads 0.x topic and lastEventID in compatibility mode, a request with match* being 1.0", () => {
    const zero = parse("topic=a&topic=b%7Bid%7D&lastEventID=x", { compat: true });
    assert.equal(zero.generation, 0);
    assert.deepEqual(zero.topics, ["a", "b{id}"]);
    assert.equal(zero.lastEventId, "x");
    const mixed = parse("topic=a&match=b", { compat: true });
    assert.equal(mixed.generation, 1);
    assert.equal(parse("match=a&lastEventID=x").lastEventId, undefined);
  });

  it('reads an empty cursor as present (""), one with a value winning; none: undefined', () => {
    assert.equal(parse("match=a").lastEventId, undefined);
    assert.equal(parse("match=a&last_event_id=").lastEventId, "");
    assert.equal(parse("match=a&last_event_id").lastEventId, "");
    assert.equal(parse("match=a", { header: "" }).lastEventId, "");
    assert.equal(parse("match=a&last_event_id=q", { header: "" }).lastEventId, "q");
    assert.equal(parse("match=a&last_event_id=&last_event_id=q").lastEventId, "");
    assert.equal(parse("topic=a&lastEventID=", { compat: true }).lastEventId, "");
    assert.equal(parse("topic=a&last_event_id=&lastEventID=x", { compat: true }).lastEventId, "x");
  });
});
