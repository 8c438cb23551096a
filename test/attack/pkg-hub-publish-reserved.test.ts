import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { configWith, type Herald, HeraldError, startHerald } from "herald";

/**
 * Promise (docs/embedding.md): "publish from the host program: the same checks, ids and delivery
 * as POST /publish"; "`herald.hub.publish(inputs)` rejects with a `HeraldError` whose `code` and
 * `message` are those the HTTP API answers ...; nothing is stored then". POST /publish refuses an
 * event type of the hub's own (`herald.missed`, `herald.stream`: 400, src/api/reserved-types.ts:
 * "Every publish route, on both APIs, calls this before anything is stored") and a topic under
 * `$presence/` (403: "only the hub publishes").
 *
 * Found in an attack round (2026-12-03), with `herald` imported by its package name as a user
 * does: `herald.hub.publish`, the one the docs named, is the core hub's, without those checks
 * (the fix: `herald.publish` makes them; docs/embedding.md now names it and says what `hub` is). It stores and delivers an
 * event of type `herald.missed` (every `herald-client` subscriber of the topic then calls
 * `onMissed` and reloads everything, for an event nobody lost) and a `$presence/...` event (forged
 * presence), where the same inputs to POST /publish are refused.
 */
describe("attack: herald as a library: herald.publish makes the checks POST /publish makes", () => {
  let herald: Herald | undefined;
  before(async () => {
    herald = await startHerald(
      configWith({ port: 0, host: "127.0.0.1", logLevel: "silent", allowAnonymousPublish: true }),
    );
  });
  after(async () => {
    await herald?.close();
  });

  const viaHttp = async (body: unknown) => {
    const answer = await fetch(`${herald?.url}/publish`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: answer.status, body: (await answer.json()) as { error?: string } };
  };

  it("type herald.missed: POST /publish answers 400; herald.publish rejects with the same HeraldError", async () => {
    const http = await viaHttp({ topic: "news", event: "herald.missed", data: "{}" });
    assert.equal(http.status, 400);
    await assert.rejects(
      (herald as Herald).publish([{ topics: ["news"], type: "herald.missed", data: "{}" }]),
      (error: unknown) => error instanceof HeraldError && error.code === http.body.error,
    );
  });

  it("topic $presence/room: POST /publish answers 403; herald.publish rejects with the same HeraldError", async () => {
    const http = await viaHttp({ topic: "$presence/room", data: "{}" });
    assert.equal(http.status, 403);
    await assert.rejects(
      (herald as Herald).publish([{ topics: ["$presence/room"], data: "{}" }]),
      (error: unknown) => error instanceof HeraldError && error.code === http.body.error,
    );
  });

  it("inputs of the wrong shape from plain JS (topics a string, private a string) reject with bad_request", async () => {
    const h = herald as Herald;
    for (const input of [
      { topics: "abc", data: "x" },
      { topics: ["news"], data: "x", private: "no" },
    ]) {
      await assert.rejects(
        h.publish([input as unknown as Parameters<Herald["publish"]>[0][number]]),
        (error: unknown) => error instanceof HeraldError && error.code === "bad_request",
        JSON.stringify(input),
      );
    }
  });
});
