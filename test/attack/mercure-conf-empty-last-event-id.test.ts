import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { RawStream } from "../helpers/herald.ts";
import { startModernHerald } from "../mercure/v1-helpers.ts";

/**
 * Promise (spec/mercure.md, "Reconnection, State Reconciliation, and Event Sourcing", 1.0.0-alpha.3):
 * "When the request contains a `Last-Event-ID` HTTP header or a `last_event_id` query parameter,
 * the hub MUST set a `Mercure-Last-Event-ID` field on the HTTP response." Its value is "the
 * reserved value `earliest` if there is no preceding event (for example, when the hub history is
 * empty, ...)". The spec's query rule: "A parameter name given without a value is equivalent to
 * that name with an empty value." The reference hub (subscribe.go `retrieveLastEventID`) answers
 * the field "whenever one was [present], even with an empty value".
 *
 * Found checking Herald against the Mercure conformance material (2026-12-03): a present but
 * empty cursor (`?last_event_id=`, the URL an app builds from an empty discovery cursor, or an
 * empty `Last-Event-ID:` header) gets no `Mercure-Last-Event-ID` at all, so a client comparing it
 * with the id it asked for cannot tell whether anything was lost.
 */
describe("Mercure 1.0: an empty cursor still gets Mercure-Last-Event-ID", () => {
  let herald: Herald;
  before(async () => {
    herald = await startModernHerald(); // a fresh hub: its history is empty
  });
  after(() => herald.close());

  async function resumeHeader(query: string, headers: Record<string, string> = {}): Promise<unknown> {
    const stream = new RawStream(`${herald.url}/.well-known/mercure?${query}`, headers);
    try {
      await stream.opened();
      assert.equal(stream.status, 200);
      return stream.headers["mercure-last-event-id"];
    } finally {
      stream.close();
    }
  }

  it("answers earliest to ?last_event_id= (empty value)", async () => {
    assert.equal(await resumeHeader("match=https://example.com/a&last_event_id="), "earliest");
  });

  it("answers earliest to ?last_event_id (no value)", async () => {
    assert.equal(await resumeHeader("match=https://example.com/a&last_event_id"), "earliest");
  });

  it("answers earliest to an empty Last-Event-ID header", async () => {
    assert.equal(await resumeHeader("match=https://example.com/a", { "last-event-id": "" }), "earliest");
  });
});
