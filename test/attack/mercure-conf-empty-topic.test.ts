import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { listen, mercurePublish } from "../mercure/helpers.ts";
import { accessToken, detail, resourceOf, startModernHerald } from "../mercure/v1-helpers.ts";

/**
 * Promise (spec/mercure.md, "Publication", 1.0.0-alpha.3): "The request MUST contain at least one
 * `topic` field"; "Each topic value MUST conform to the constraints defined in (#terminology)"
 * (valid UTF-8, no C0/C1 control, U+007F or `Cf` character; no other rule), and only `*` and the
 * reserved namespace are refused on top. An empty value is a topic field and breaks none of these:
 * the reference hub (publish.go: `len(r.PostForm["topic"]) == 0` is its only "missing" test)
 * publishes it. Herald itself accepts the matching subscription, `?match=` (an empty exact
 * matcher, 200), which can then never receive anything.
 *
 * The same holds in a token: a topic matcher object "MUST be a JSON object with a `match`
 * property" (spec, "Topic Matcher List"); the reference hub (authorizationdetails.go) tells an
 * absent `match` from "an explicit empty string", and accepts the latter.
 *
 * Found checking Herald against the Mercure conformance material (2026-12-03), low severity (an
 * edge a real app rarely hits): `topic=` answers 400 `missing "topic"`, though the field is there;
 * a token with one `{"match": ""}` entry is refused whole (401 `invalid_token`, "match must be a
 * non-empty string"), where the reference hub accepts it.
 */
describe("Mercure 1.0: an empty topic value is a topic", () => {
  let herald: Herald;
  let publisher: string;
  before(async () => {
    herald = await startModernHerald();
    publisher = await accessToken(resourceOf(herald.url), [detail(["publish"], ["*"])]);
  });
  after(() => herald.close());

  it("publishes topic= and delivers it to ?match=", async () => {
    const subscriber = await listen(herald.url, [["match", ""]]);
    try {
      assert.equal(subscriber.status, 200);
      const answer = await mercurePublish(
        herald.url,
        [
          ["topic", ""],
          ["id", "urn:test:empty-topic"],
          ["data", "to the empty topic"],
        ],
        { authorization: `Bearer ${publisher}` },
      );
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.text, "urn:test:empty-topic");
      await subscriber.receives("to the empty topic");
    } finally {
      subscriber.close();
    }
  });

  it("accepts a token whose detail has {match: ''} beside a valid grant", async () => {
    const token = await accessToken(resourceOf(herald.url), [
      detail(["publish"], ["*"]),
      detail(["subscribe"], [{ match: "" }]),
    ]);
    const answer = await mercurePublish(
      herald.url,
      [
        ["topic", "https://example.com/books/1"],
        ["data", "published with a token that grants the empty topic too"],
      ],
      { authorization: `Bearer ${token}` },
    );
    assert.equal(answer.status, 200, answer.text);
  });
});
