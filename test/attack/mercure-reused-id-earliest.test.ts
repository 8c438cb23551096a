import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { RawStream } from "../helpers/herald.ts";
import { published } from "../mercure/helpers.ts";
import { accessToken, detail, resourceOf, startModernHerald } from "../mercure/v1-helpers.ts";

/**
 * Promise (spec/mercure.md "Reconnection, State Reconciliation": "If more than one update in the
 * hub's history shares the same ID ..., a `Last-Event-ID` bearing that value MUST resolve to the
 * earliest such update in the hub's history. The hub MUST then send all updates published after
 * that one, including any later update carrying the same, reused ID"; docs/mercure.md "Resuming":
 * "When several updates carry the id, the earliest of them the subscriber may read is the resume
 * point"; issue 15: "A reused id is dispatched, as the spec requires").
 *
 * Found in an attack round (2026-12-03): the earliest update carrying the id is a public one on
 * another topic (the cursor a page got from discovery: the last update of any topic). Herald
 * resumes after the LATER update with that id because it is on the subscriber's topic, so the
 * update published between the two (on the subscriber's own topic) is never sent, and the
 * `Mercure-Last-Event-ID` answer (the id asked for) says nothing was lost: a silent gap.
 */
describe("Mercure 1.0: a reused id resumes after the earliest update carrying it, whatever its topic", () => {
  let herald: Herald;
  let publisher: string;
  before(async () => {
    herald = await startModernHerald();
    publisher = await accessToken(resourceOf(herald.url), [detail(["publish"], ["*"])]);
  });
  after(() => herald.close());

  it("sends the update published between the two, and the later one with the id", async () => {
    // the page is rendered here: its discovery cursor is "urn:page:cursor" (an update on another topic)
    await published(herald.url, publisher, [
      ["topic", "https://example.com/authors/1"],
      ["id", "urn:page:cursor"],
      ["data", "author 1 changed"],
    ]);
    await published(herald.url, publisher, [
      ["topic", "https://example.com/books/1"],
      ["data", "book 1 changed after the page was rendered"],
    ]);
    await published(herald.url, publisher, [
      ["topic", "https://example.com/books/1"],
      ["id", "urn:page:cursor"],
      ["data", "book 1 reuses the id"],
    ]);
    const query = new URLSearchParams({
      match: "https://example.com/books/1",
      last_event_id: "urn:page:cursor",
    });
    const stream = new RawStream(`${herald.url}/.well-known/mercure?${query}`);
    try {
      await stream.opened();
      await published(herald.url, publisher, [
        ["topic", "https://example.com/books/1"],
        ["data", "live fence"],
      ]);
      await stream.until(() => stream.text.includes("data: live fence"));
      assert.equal(stream.headers["mercure-last-event-id"], "urn:page:cursor");
      const data = [...stream.text.matchAll(/^data: (.*)$/gm)].map((m) => m[1]);
      assert.deepEqual(
        data,
        ["book 1 changed after the page was rendered", "book 1 reuses the id", "live fence"],
        stream.text,
      );
    } finally {
      stream.close();
    }
  });
});
