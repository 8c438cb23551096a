import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, RawStream, startTestHerald } from "../helpers/herald.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";
import { eventually } from "../helpers/waiters.ts";

interface PresenceAnswer {
  topic: string;
  count: number;
  subscribers: string[];
}

/** Presence on one node: GET /presence, who may read it, the reserved `$presence/<topic>` events. */
describe("presence (--presence room/*)", () => {
  let herald: Herald;
  const streams: RawStream[] = [];
  const open = async (topic: string, token?: string) => {
    const stream = new RawStream(
      `${herald.url}/events?topic=${encodeURIComponent(topic)}`,
      token === undefined ? {} : bearer(token),
    );
    streams.push(stream);
    await stream.opened();
    return stream;
  };
  const presence = (topic: string, token?: string) =>
    httpRequest(`${herald.url}/presence?topic=${encodeURIComponent(topic)}`, {
      headers: token === undefined ? {} : bearer(token),
    });
  let reader: string;

  before(async () => {
    herald = await startTestHerald({
      jwtSecret: TEST_SECRET,
      presence: ["room/*"],
      presenceHeartbeatMs: 200,
    });
    reader = await heraldToken({ subscribe: ["room/*"] });
  });
  after(async () => {
    for (const s of streams) s.close();
    await herald.close();
  });

  it("counts every subscriber of a watched topic and lists the identities (token sub)", async () => {
    const alice = await heraldToken({}, { subject: "alice" });
    const bob = await heraldToken({}, { subject: "bob" });
    await open("room/1", alice);
    await open("room/1", alice); // a second tab: counted, listed once
    const bobStream = await open("room/1", bob);
    await open("room/1"); // anonymous: counted only
    await open("room/2", bob);
    await eventually(
      async () => ((await presence("room/1", reader)).body as PresenceAnswer).count === 4,
      "4 subscribers on room/1",
    );
    const answer = await presence("room/1", reader);
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.body, { topic: "room/1", count: 4, subscribers: ["alice", "bob"] });

    bobStream.close();
    await eventually(
      async () => ((await presence("room/1", reader)).body as PresenceAnswer).count === 3,
      "bob's leave",
    );
    assert.deepEqual((await presence("room/1", reader)).body, {
      topic: "room/1",
      count: 3,
      subscribers: ["alice"],
    });
    assert.deepEqual((await presence("room/2", reader)).body, {
      topic: "room/2",
      count: 1,
      subscribers: ["bob"],
    });
  });

  it("refuses a topic presence is not on for, and a missing topic, saying how to fix it", async () => {
    const off = await presence("lobby", reader);
    assert.equal(off.status, 404, off.text);
    assert.match(off.text, /--presence/);
    const missing = await httpRequest(`${herald.url}/presence`, { headers: bearer(reader) });
    assert.equal(missing.status, 400, missing.text);
    assert.match(missing.text, /topic/);
  });

  it("reads presence with a token allowed the topic; anonymous when anonymous subscribers are allowed", async () => {
    const other = await heraldToken({ subscribe: ["news"] });
    assert.equal((await presence("room/1", other)).status, 200); // anonymous subscribers allowed here
    assert.equal((await presence("room/1")).status, 200);
  });

  it("publishes join and leave on $presence/<topic> only to a token that names that reserved topic", async () => {
    const watcher = await heraldToken({ subscribe: ["$presence/room/*"] });
    const star = await heraldToken({ subscribe: ["*"] });
    const granted = await open("$presence/room/7", watcher);
    const starred = await open("$presence/room/7", star);
    const anonymous = await open("$presence/room/7");
    const carol = await heraldToken({}, { subject: "carol" });
    const carolStream = await open("room/7", carol);
    await granted.until(() => granted.text.includes('"join"'));
    carolStream.close();
    await granted.until(() => granted.text.includes('"leave"'));
    const events = [...granted.text.matchAll(/^event: presence\ndata: (.*)$/gm)].map((m) =>
      JSON.parse(m[1] as string),
    );
    assert.deepEqual(
      events.map((e) => [e.type, e.topic, e.sub]),
      [
        ["join", "room/7", "carol"],
        ["leave", "room/7", "carol"],
      ],
    );
    // a `*` grant is not an explicit grant of the reserved topic: nothing reached them
    assert.doesNotMatch(starred.text, /carol/);
    assert.doesNotMatch(anonymous.text, /carol/);
  });

  it("refuses publishing to a reserved $presence/ topic", async () => {
    const publisher = await heraldToken({ publish: ["*"] });
    const answer = await httpRequest(`${herald.url}/publish`, {
      method: "POST",
      headers: { ...bearer(publisher), "content-type": "application/json" },
      body: JSON.stringify({ topic: "$presence/room/1", data: "forged" }),
    });
    assert.equal(answer.status, 403, answer.text);
  });
});

describe("presence readers when anonymous subscribers are refused", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({
      jwtSecret: TEST_SECRET,
      allowAnonymousSubscribe: false,
      presence: ["room/*"],
    });
  });
  after(() => herald.close());

  it("needs a token whose subscribe or publish claim matches the topic", async () => {
    const url = `${herald.url}/presence?topic=room/1`;
    assert.equal((await httpRequest(url)).status, 401);
    const other = await heraldToken({ subscribe: ["news"] });
    const refused = await httpRequest(url, { headers: bearer(other) });
    assert.equal(refused.status, 403, refused.text);
    const subscriber = await heraldToken({ subscribe: ["room/*"] });
    assert.equal((await httpRequest(url, { headers: bearer(subscriber) })).status, 200);
    const publisher = await heraldToken({ publish: ["room/1"] });
    assert.equal((await httpRequest(url, { headers: bearer(publisher) })).status, 200);
  });
});
