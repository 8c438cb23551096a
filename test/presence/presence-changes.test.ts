import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, RawStream, startTestHerald } from "../helpers/herald.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";
import { eventually } from "../helpers/waiters.ts";

/** Presence follows a stream's topic changes (POST /streams/{id}/topics): no hidden watcher, no ghost. */
describe("presence and live topic changes (--presence room/*)", () => {
  let herald: Herald;
  const closers: (() => void)[] = [];
  before(async () => {
    herald = await startTestHerald({
      jwtSecret: TEST_SECRET,
      presence: ["room/*"],
      presenceHeartbeatMs: 200,
    });
  });
  after(async () => {
    for (const close of closers) close();
    await herald.close();
  });
  const view = async (topic: string) =>
    (await httpRequest(`${herald.url}/presence?topic=${encodeURIComponent(topic)}`)).body as {
      count: number;
      subscribers: string[];
    };

  it("a topic added to a stream shows its subscriber; a topic removed no longer does", async () => {
    const token = await heraldToken({ subscribe: ["news"] }, { subject: "mallory" });
    const stream = new RawStream(`${herald.url}/events?announce=1&topic=news`, bearer(token));
    closers.push(() => stream.close());
    await stream.until(() => /"id":"([^"]+)"/.test(stream.text));
    const id = (/"id":"([^"]+)"/.exec(stream.text) as RegExpExecArray)[1] as string;
    const change = (body: unknown) =>
      httpRequest(`${herald.url}/streams/${id}/topics`, {
        method: "POST",
        headers: { "content-type": "application/json", ...bearer(token) },
        body: JSON.stringify(body),
      });
    const shows = async (topic: string, count: number, subscribers: string[]) => {
      const got = await view(topic);
      return got.count === count && JSON.stringify(got.subscribers) === JSON.stringify(subscribers);
    };
    assert.equal((await change({ add: ["room/1"] })).status, 200);
    await eventually(() => shows("room/1", 1, ["mallory"]), "room/1 to show mallory after the add");
    assert.equal((await change({ add: ["room/2"], remove: ["room/1"] })).status, 200);
    await eventually(
      async () => (await shows("room/1", 0, [])) && (await shows("room/2", 1, ["mallory"])),
      "mallory to move from room/1 to room/2",
    );
    stream.close();
    await eventually(() => shows("room/2", 0, []), "room/2 to empty once the stream ends");
  });
});
