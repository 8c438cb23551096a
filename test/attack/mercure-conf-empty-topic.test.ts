import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { listen, mercurePublish } from "../mercure/helpers.ts";
import { accessToken, detail, resourceOf, startModernHerald } from "../mercure/v1-helpers.ts";

/**
 * Promise (spec/mercure.md, 1.0.0-alpha.3). "Publication": every topic value "MUST NOT address the
 * reserved hub namespace. To test this, each topic MUST be resolved against the hub's URL ... A
 * topic addresses the reserved namespace when the resolved path component equals the path of the
 * hub's URL or begins with that path followed by `/`"; hubs "MUST reject publish requests
 * violating them, for any topic value, with a 400". The empty reference resolves to the hub's URL
 * itself, so `topic=` is refused (the Mercure hub too: publish_test.go "empty topic value" ->
 * ErrReservedTopic; reservedtopic_test.go "The empty reference resolves to the hub URL itself"),
 * and so are relative topics that resolve under it (`mercure/subscriptions/...`, `?x`).
 *
 * "Subscription": a matcher value must be UTF-8 without control or `Cf` characters, and valid for
 * its type; an empty exact matcher breaks none of this (the Mercure hub accepts `?match=`). "Topic
 * Matcher List": a matcher object "MUST be a JSON object with a `match` property"; the Mercure hub
 * (authorizationdetails.go) tells an absent `match` from "an explicit empty string" and accepts it.
 *
 * Found checking Herald against the Mercure conformance material (2026-12-03): a token with one
 * `{"match": ""}` entry was refused whole (401 `invalid_token`); `topic=` answered 400 `missing
 * "topic"` (the field is there: the reason is the reserved namespace). Found while deciding that
 * (2026-12-03), high severity: Herald resolved topics against `/`, not the hub's URL, so
 * `topic=mercure/subscriptions/exact/x/y` was published and reached subscribers of subscription
 * events by URL pattern (`/.well-known/mercure/subscriptions/:type/:match/:subscriber`): forged
 * subscription events; `?x`, `#x` and `mercure` were published too.
 */
describe("Mercure 1.0: an empty topic value, and topics that resolve to the hub", () => {
  let herald: Herald;
  let publisher: string;
  before(async () => {
    herald = await startModernHerald();
    publisher = await accessToken(resourceOf(herald.url), [detail(["publish"], ["*"])]);
  });
  after(() => herald.close());

  const publish = (topics: string[], data: string) =>
    mercurePublish(herald.url, [...topics.map((t): [string, string] => ["topic", t]), ["data", data]], {
      authorization: `Bearer ${publisher}`,
    });

  it("refuses topic= (the hub's own URL) with a 400 naming the reserved namespace; ?match= is accepted", async () => {
    const subscriber = await listen(herald.url, [["match", ""]]);
    try {
      assert.equal(subscriber.status, 200);
      for (const topics of [[""], ["https://example.com/books/1", ""]]) {
        const answer = await publish(topics, "to the empty topic");
        assert.equal(answer.status, 400, `${JSON.stringify(topics)}: ${answer.text}`);
        assert.match(answer.text, /\/\.well-known\/mercure/, JSON.stringify(topics));
      }
    } finally {
      subscriber.close();
    }
  });

  it("refuses relative topics that resolve into /.well-known/mercure; forges no subscription event", async () => {
    const watcher = await listen(herald.url, [
      ["match_urlpattern", "/.well-known/mercure/subscriptions/:type/:match/:subscriber"],
      ["match_urlpattern", "/.well-known/mercure"],
      ["match", "https://example.com/fence"],
    ]);
    try {
      for (const topic of [
        "mercure/subscriptions/exact/x/urn:uuid:1",
        "?x",
        "#x",
        "mercure",
        "a/../mercure",
      ]) {
        const answer = await publish([topic], `forged via ${topic}`);
        assert.equal(answer.status, 400, `${JSON.stringify(topic)}: ${answer.text}`);
      }
      // still published: names outside the namespace
      for (const topic of ["mercurex", "subscriptions/a", "urn:mercure", "/mercure/x"]) {
        const answer = await publish([topic], `fine: ${topic}`);
        assert.equal(answer.status, 200, `${JSON.stringify(topic)}: ${answer.text}`);
      }
      assert.equal((await publish(["https://example.com/fence"], "fence")).status, 200);
      await watcher.receives("fence");
      assert.deepEqual(watcher.data, ["fence"]);
    } finally {
      watcher.close();
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
