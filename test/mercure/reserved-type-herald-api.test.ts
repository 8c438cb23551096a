import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, publish, RawStream } from "../helpers/herald.ts";
import { accessToken, detail, resourceOf, startModernHerald } from "./v1-helpers.ts";

/**
 * Promise (docs/mercure.md, "The subscriptions API"): subscription events carry the SSE type
 * `mercure`, and "publishers may not use that type"; the spec (spec/mercure.md, "Subscription
 * Events") adds that hubs MUST reject a publish whose `type` is `mercure`, so that no publisher
 * can forge a hub event for subscribers that key on the event type. docs/mercure.md also promises
 * "One hub, two APIs": an event of `POST /publish` reaches Mercure subscribers whose matchers match.
 *
 * Herald's own stream events (`herald.missed`, `herald.stream`) are reserved the same way.
 *
 * Observed (attack round, 2026-12-02): `POST /.well-known/mercure` refuses `type=mercure` (400), but
 * Herald's own `POST /publish` and `POST /publish/batch` accept `"event": "mercure"` (200) on any
 * topic, and the Mercure subscriber receives `event: mercure` with forged subscription JSON: a
 * forged hub event, by type.
 */
describe("the hub's reserved SSE types (mercure, herald.*) on every publish route", () => {
  let herald: Herald;
  before(async () => {
    herald = await startModernHerald({ mercureSubscriptions: true });
  });
  after(async () => {
    await herald.close();
  });

  it("refuses event mercure and herald.* on POST /publish, POST /publish/batch and the Mercure publish; no subscriber gets one", async () => {
    const token = await accessToken(resourceOf(herald.url), [detail(["subscribe"], ["*"])]);
    const stream = new RawStream(`${herald.url}/.well-known/mercure?match=*`, {
      authorization: `Bearer ${token}`,
    });
    try {
      await stream.until(() => stream.text.includes(": ok"));
      const forged = {
        topic: "https://example.com/books/1",
        event: "mercure",
        data: { id: "/.well-known/mercure/subscriptions/exact/x/y", type: "subscription", active: false },
      };
      const single = await publish(herald.url, forged);
      const batch = await httpRequest(`${herald.url}/publish/batch`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ events: [forged] }),
      });
      // a public event after them: once it arrives, anything published before it has arrived too
      await publish(herald.url, { topic: "https://example.com/books/1", data: "fence" });
      await stream.until(() => stream.text.includes("data: fence"));
      assert.equal(single.status, 400, `POST /publish with event "mercure": ${single.status} ${single.text}`);
      assert.match(single.text, /mercure/);
      assert.equal(
        batch.status,
        400,
        `POST /publish/batch with event "mercure": ${batch.status} ${batch.text}`,
      );
      assert.doesNotMatch(stream.text, /^event: mercure$/m, `forged hub event delivered:\n${stream.text}`);
      // Herald's own stream events are the hub's too (the SDK acts on herald.missed), on both APIs
      for (const type of ["herald.missed", "herald.stream", "herald.anything"]) {
        const answer = await publish(herald.url, { ...forged, event: type });
        assert.equal(answer.status, 400, `POST /publish with event ${type}: ${answer.status} ${answer.text}`);
        assert.match(answer.text, /reserved/);
      }
      const mercure = await httpRequest(`${herald.url}/.well-known/mercure`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: `Bearer ${await accessToken(resourceOf(herald.url), [detail(["publish"], ["*"])])}`,
        },
        body: new URLSearchParams({ topic: forged.topic, data: "x", type: "herald.missed" }).toString(),
      });
      assert.equal(
        mercure.status,
        400,
        `Mercure publish with type herald.missed: ${mercure.status} ${mercure.text}`,
      );
      assert.match(mercure.text, /reserved/);
    } finally {
      stream.close();
    }
  });
});
