import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, RawStream, startTestHerald } from "../helpers/herald.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";

/**
 * Promise (docs/streams.md, "Resuming after a change"): a client that changed its topics reconnects
 * with its current set and its last id; the resume replays the events after that id on the topics
 * it has now, whatever topic the event of that id was on (events of a removed topic are not
 * replayed; the others are). docs/concepts.md "Ids": a held id is a resume point when the
 * subscriber may read its event (public, or private with its rights), on any topic; a private
 * event it may not read is answered as an id never held (`herald.missed`, `unknown-id`), so a
 * resume reveals nothing about it.
 *
 * Found in an attack round (2026-12-02): a publisher id (`"id"` in POST /publish) of an event on
 * the topic the client had just removed answered `herald.missed` (`unknown-id`) and replayed
 * nothing: the events of the topics it kept, published while it was away, were lost. The id was
 * resolved only among events the stream "may receive", and an event of a topic it no longer
 * follows was not one. Ids Herald makes (`<epoch>-<n>`) resumed fine.
 */
describe("resuming on the topics kept after a remove, from the removed topic's publisher id", () => {
  let herald: Herald;
  let publisher: string;
  before(async () => {
    herald = await startTestHerald({ jwtSecret: TEST_SECRET });
    publisher = await heraldToken({ publish: ["*"] }, { subject: "publisher", expiresInSec: 600 });
  });
  after(async () => {
    await herald.close();
  });

  const send = async (body: unknown): Promise<void> => {
    const answer = await httpRequest(`${herald.url}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer(publisher) },
      body: JSON.stringify(body),
    });
    assert.equal(answer.status, 200, answer.text);
  };

  /** Opens `path` with `Last-Event-ID: lastId`, publishes a live fence on news, and answers the stream's text. */
  const resumed = async (path: string, lastId: string, headers: Record<string, string> = {}) => {
    const stream = new RawStream(`${herald.url}${path}`, { "last-event-id": lastId, ...headers });
    try {
      await stream.opened();
      await send({ topic: "news", data: "live fence" });
      await stream.until(() => stream.text.includes("data: live fence"));
      return stream.text;
    } finally {
      stream.close();
    }
  };

  it("replays the kept topic's events after that id", async () => {
    // the client followed news and sports; the last event it got was sports', with the publisher's id
    await send({ topic: "sports", data: "goal", id: "match-7-goal-3" });
    // it removed sports, its connection dropped; meanwhile both topics got an event
    await send({ topic: "news", data: "while away" });
    await send({ topic: "sports", data: "not followed any more" });
    const text = await resumed("/events?topic=news", "match-7-goal-3");
    assert.match(text, /data: while away/, text);
    assert.doesNotMatch(text, /not followed any more/, "the removed topic's events are not replayed");
    assert.doesNotMatch(text, /herald\.missed/, text);
  });

  it("from a private event's id on another topic, with the rights to read it: resumes", async () => {
    await send({ topic: "payroll", data: "salaries", id: "payroll-run-12", private: true });
    await send({ topic: "news", data: "after the run" });
    const reader = await heraldToken({ subscribe: ["payroll"] }, { subject: "reader", expiresInSec: 600 });
    const text = await resumed("/events?topic=news", "payroll-run-12", bearer(reader));
    assert.match(text, /data: after the run/, text);
    assert.doesNotMatch(text, /herald\.missed/, text);
  });

  it("from a private event's id on another topic it may not read: an unknown id, as one never held", async () => {
    await send({ topic: "hr/secret", data: "layoffs", id: "hr-memo-9", private: true });
    await send({ topic: "news", data: "after the memo" });
    const outsider = await heraldToken(
      { subscribe: ["payroll"] },
      { subject: "outsider", expiresInSec: 600 },
    );
    const text = await resumed("/events?topic=news", "hr-memo-9", bearer(outsider));
    const never = await resumed("/events?topic=news", "no-event-ever-had-this-id", bearer(outsider));
    assert.match(text, /event: herald\.missed\n/, text);
    assert.match(text, /"reason":"unknown-id"/, text);
    assert.doesNotMatch(text, /after the memo/, "nothing is replayed from a point it may not know of");
    // the same answer as for an id never held
    const missed = (t: string) => JSON.parse(/event: herald\.missed\ndata: (.*)\n/.exec(t)?.[1] ?? "{}");
    assert.deepEqual(missed(text), { lastEventId: "hr-memo-9", reason: "unknown-id" });
    assert.deepEqual(missed(never), { lastEventId: "no-event-ever-had-this-id", reason: "unknown-id" });
  });
});
