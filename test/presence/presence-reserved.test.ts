import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, publish, RawStream, startTestHerald } from "../helpers/herald.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";
import { eventually } from "../helpers/waiters.ts";

/**
 * Presence and the hub's reserved `$` topics: reading the presence of a `$` topic needs an
 * explicit grant (as subscribing to its private events does), and the join and leave events on
 * `$presence/<topic>` are live only, so connect/disconnect churn never pushes other events out of
 * the history a resume needs.
 */
describe("GET /presence of a reserved $ topic (--presence '*')", () => {
  let herald: Herald;
  const streams: RawStream[] = [];
  const presence = (topic: string, token?: string) =>
    httpRequest(`${herald.url}/presence?topic=${encodeURIComponent(topic)}`, {
      headers: token === undefined ? {} : bearer(token),
    });

  before(async () => {
    herald = await startTestHerald({ jwtSecret: TEST_SECRET, presence: ["*"] });
  });
  after(async () => {
    for (const s of streams) s.close();
    await herald.close();
  });

  it("answers only a token that names the $ topic explicitly: not `*`, not anonymous", async () => {
    const alice = await heraldToken({ subscribe: ["$ops/*"] }, { subject: "alice" });
    const stream = new RawStream(
      `${herald.url}/events?topic=${encodeURIComponent("$ops/alerts")}`,
      bearer(alice),
    );
    streams.push(stream);
    await stream.opened();
    await eventually(
      async () => ((await presence("$ops/alerts", alice)).body as { count?: number }).count === 1,
      "alice on $ops/alerts",
    );
    assert.deepEqual((await presence("$ops/alerts", alice)).body, {
      topic: "$ops/alerts",
      count: 1,
      subscribers: ["alice"],
    });

    const star = await heraldToken({ subscribe: ["*"], publish: ["*"] }, { subject: "bob" });
    const refused = await presence("$ops/alerts", star);
    assert.equal(refused.status, 403, refused.text);
    assert.doesNotMatch(refused.text, /alice/);
    assert.match(refused.text, /\$ops\/alerts/);

    const anonymous = await presence("$ops/alerts");
    assert.equal(anonymous.status, 401, anonymous.text);
    assert.doesNotMatch(anonymous.text, /alice/);

    // a reserved topic of the hub itself: same rule
    assert.equal((await presence("$presence/room/1", star)).status, 403);
    // an ordinary topic: `*` and anonymous readers still get it
    assert.equal((await presence("room/1", star)).status, 200);
    assert.equal((await presence("room/1")).status, 200);
  });
});

describe("presence join/leave churn and the history a resume needs", () => {
  let herald: Herald;
  const streams: RawStream[] = [];
  const HISTORY = 10;

  before(async () => {
    herald = await startTestHerald({
      jwtSecret: TEST_SECRET,
      presence: ["room/*"],
      historySize: HISTORY,
    });
  });
  after(async () => {
    for (const s of streams) s.close();
    await herald.close();
  });

  it("resumes a normal topic after many connects and disconnects on a watched one", async () => {
    const watcher = await heraldToken({ subscribe: ["$presence/room/*"] });
    const watch = new RawStream(
      `${herald.url}/events?topic=${encodeURIComponent("$presence/room/1")}`,
      bearer(watcher),
    );
    streams.push(watch);
    await watch.opened();

    assert.equal((await publish(herald.url, { topic: "news", id: "n1", data: "one" })).status, 200);
    assert.equal((await publish(herald.url, { topic: "news", id: "n2", data: "two" })).status, 200);

    const CHURN = 2 * HISTORY; // each gives a join and a leave: 4 times the history
    for (let i = 0; i < CHURN; i++) {
      const token = await heraldToken({}, { subject: `user-${i}` });
      const s = new RawStream(`${herald.url}/events?topic=room/1`, bearer(token));
      streams.push(s);
      await s.opened();
      await watch.until(() => watch.text.includes(`"join","topic":"room/1","sub":"user-${i}"`));
      s.close();
      await watch.until(() => watch.text.includes(`"leave","topic":"room/1","sub":"user-${i}"`));
    }
    // the join and leave events still reached their watcher live
    assert.equal([...watch.text.matchAll(/^event: presence$/gm)].length, 2 * CHURN);

    const resume = new RawStream(`${herald.url}/events?topic=news`, { "last-event-id": "n1" });
    streams.push(resume);
    await resume.until(() => resume.text.includes("id: n2\n") || resume.text.includes("herald.missed"));
    assert.doesNotMatch(resume.text, /herald\.missed/, resume.text);
    assert.match(resume.text, /^data: two$/m);
  });
});
