import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { RecentIds } from "../../packages/herald-client/src/share/recent-ids.ts";
import { publish, RawStream, startTestHerald } from "../helpers/herald.ts";
import { eventsOf } from "../helpers/id-scope-suite.ts";
import { shown } from "../helpers/tab-shown.ts";

/**
 * docs/client.md "Leader handover" (commit 3e78088): "A tab that was ahead of the new leader drops
 * that replay's events while they repeat, in order, the ids it received after the new leader's
 * resume point ..., so none is shown twice".
 *
 * The new leader resumes with `Last-Event-ID` = its last id `x`. When two publishers used `x` on the
 * group's topic, the hub resolves it to the EARLIEST held event carrying it (Bus.replay: "the
 * earliest event carrying it that visible accepts"; every event a tab of the group received is one
 * it may read, on its topics): the replay starts after the first `x`. RecentIds.resumedAfter looks
 * the id up with lastIndexOf: it expects the replay to start after the tab's LAST `x`, sees another
 * id, stops dropping, and the tab shows again every event it already had after the first `x`.
 */
describe("attack: a tab ahead of a new leader whose resume id was reused shows its events twice", () => {
  let herald: Herald;
  const streams: RawStream[] = [];
  before(async () => {
    herald = await startTestHerald();
  });
  after(async () => {
    for (const stream of streams) stream.close();
    await herald.close();
  });

  it("the hub replays after the first event carrying a reused id (what a new leader's resume gets)", async () => {
    // publisher 1 and publisher 2 (other scopes: anonymous publishers differ by nothing but content)
    for (const [id, data] of [
      ["x", "first x"],
      ["a", "a"],
      ["x", "second x"],
      ["c", "c"],
      ["d", "d"],
    ]) {
      const sent = await publish(herald.url, { topic: "share", id, data });
      assert.equal(sent.status, 200, sent.text);
    }
    const stream = new RawStream(`${herald.url}/events?topic=share`, { "last-event-id": "x" });
    streams.push(stream);
    await stream.opened();
    await stream.until(() => eventsOf(stream.text).length >= 4);
    assert.deepEqual(
      eventsOf(stream.text).map((e) => e.id),
      ["a", "x", "c", "d"],
      "the replay after a reused id starts after its first carrier",
    );
  });

  it("so the tab that had x, a, x, c, d drops that replay and shows only what is new", () => {
    const recent = new RecentIds();
    // the tab received x a x c d; the new leader (behind, at the second x) resumes after "x"; the
    // hub replays a x c d (previous test), then the new event e
    const got = shown(recent, ["x", "a", "x", "c", "d", "@x", "a", "x", "c", "d", "e"]);
    assert.deepEqual(got, ["x", "a", "x", "c", "d", "e"], `the tab showed ${JSON.stringify(got)}`);
  });
});
