import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { RawStream } from "../helpers/herald.ts";
import { mercureToken, published, startMercureHerald } from "./helpers.ts";
import { accessToken, detail, resourceOf, startModernHerald } from "./v1-helpers.ts";

/**
 * Promise (docs/mercure.md "Subscribing (1.0)", Resuming; spec/mercure.md "Reconnection, State
 * Reconciliation"): `last_event_id` / `Last-Event-ID` resume "every later matching update"; the
 * answer is `earliest` only when "the id is unknown, too old, or from before a restart". Ids are
 * cursors "into a single, hub-wide event sequence rather than one scoped per topic", and the
 * spec's discovery flow hands the subscriber "the identifier of the last event dispatched by the
 * publisher at the time the resource was generated" (any topic) so "that updates dispatched
 * between the resource generation and the connection to the hub are not lost". So the id of any
 * held update the subscriber may read (public, or private with its token's rights) is a resume
 * point, whatever its topic; the id of a private update it may not read is answered as unknown
 * (`earliest`), as an id never held: the resume reveals nothing about it (docs/concepts.md "Ids").
 *
 * Found in an attack round (2026-12-02): the id of a held, public update on another topic was
 * answered as unknown (`Mercure-Last-Event-ID: earliest`, `herald.missed`), and the matching
 * updates published after it were never sent: the loss reconciliation exists to prevent. The same
 * in 0.x mode (`topic=` + `lastEventID=`).
 */
describe("Mercure 1.0: resuming from the id of an update on another topic", () => {
  let herald: Herald;
  before(async () => {
    herald = await startModernHerald();
  });
  after(async () => {
    await herald.close();
  });

  it("replays the matching updates published after it, with that id as Mercure-Last-Event-ID", async () => {
    const publisher = await accessToken(resourceOf(herald.url), [detail(["publish"], ["*"])]);
    await resumesAcrossTopics(herald.url, publisher, (cursor) => ({
      query: { match: "https://example.com/books/1", last_event_id: cursor },
      header: "mercure-last-event-id",
    }));
  });

  it("the id of a private update on another topic it may not read: earliest, as an unknown id", async () => {
    const publisher = await accessToken(resourceOf(herald.url), [detail(["publish"], ["*"])]);
    const secret = await published(herald.url, publisher, [
      ["topic", "https://example.com/books/3"],
      ["data", "book 3's private note"],
      ["private", "on"],
    ]);
    await published(herald.url, publisher, [
      ["topic", "https://example.com/books/1"],
      ["data", "book 1 after the private note"],
    ]);
    // anonymous: it may read no private update
    const query = new URLSearchParams({ match: "https://example.com/books/1", last_event_id: secret });
    const stream = new RawStream(`${herald.url}/.well-known/mercure?${query}`);
    try {
      await stream.opened();
      await published(herald.url, publisher, [
        ["topic", "https://example.com/books/1"],
        ["data", "live fence 2"],
      ]);
      await stream.until(() => stream.text.includes("data: live fence 2"));
      assert.equal(stream.headers["mercure-last-event-id"], "earliest");
      assert.match(stream.text, /event: herald\.missed\n/, stream.text);
      assert.match(stream.text, /"reason":"unknown-id"/, stream.text);
      assert.doesNotMatch(stream.text, /book 1 after the private note/, stream.text);
    } finally {
      stream.close();
    }
  });
});

describe("Mercure 0.x: resuming from the id of an update on another topic", () => {
  let herald: Herald;
  before(async () => {
    herald = await startMercureHerald();
  });
  after(async () => {
    await herald.close();
  });

  it("replays the matching updates published after it, with that id as Last-Event-ID", async () => {
    const publisher = await mercureToken({ publish: ["*"] });
    await resumesAcrossTopics(herald.url, publisher, (cursor) => ({
      query: { topic: "https://example.com/books/1", lastEventID: cursor },
      header: "last-event-id",
    }));
  });
});

/**
 * Publishes on books/2 (the cursor: what a page's Link header carries), then on books/1; a
 * subscriber of books/1 resuming from the cursor gets the books/1 update, and the cursor back in
 * `header`.
 */
async function resumesAcrossTopics(
  hub: string,
  publisher: string,
  request: (cursor: string) => { query: Record<string, string>; header: string },
): Promise<void> {
  const cursor = await published(hub, publisher, [
    ["topic", "https://example.com/books/2"],
    ["data", "book 2 changed"],
  ]);
  await published(hub, publisher, [
    ["topic", "https://example.com/books/1"],
    ["data", "book 1 changed after the page was rendered"],
  ]);
  const { query, header } = request(cursor);
  const stream = new RawStream(`${hub}/.well-known/mercure?${new URLSearchParams(query)}`);
  try {
    await stream.opened();
    await published(hub, publisher, [
      ["topic", "https://example.com/books/1"],
      ["data", "live fence"],
    ]);
    await stream.until(() => stream.text.includes("data: live fence"));
    assert.equal(stream.headers[header], cursor, "the resume point is the id asked for");
    assert.match(stream.text, /data: book 1 changed after the page was rendered/, stream.text);
    assert.doesNotMatch(stream.text, /herald\.missed/, stream.text);
  } finally {
    stream.close();
  }
}
