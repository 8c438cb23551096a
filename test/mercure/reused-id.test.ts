import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest } from "../helpers/herald.ts";
import { listenerPool, mercureToken, published, startMercureHerald } from "./helpers.ts";

const A = "https://a.example/items/1";
const B = "https://b.example/items/1";

describe("Mercure: a reused update id (spec: reconciliation)", () => {
  let herald: Herald;
  let publisherA: string;
  let publisherB: string;
  const pool = listenerPool();
  before(async () => {
    herald = await startMercureHerald({ mercureSubscriptions: true });
    publisherA = await mercureToken({ publish: [A] });
    publisherB = await mercureToken({ publish: [B] });
  });
  after(async () => {
    pool.closeAll();
    await herald.close();
  });

  it("an id another publisher used first does not stop the update: it is stored and dispatched", async () => {
    const listener = await pool.open(herald.url, [["topic", A]]);
    assert.equal(
      await published(herald.url, publisherB, [
        ["topic", B],
        ["id", "urn:reused:1"],
        ["data", "b"],
      ]),
      "urn:reused:1",
    );
    assert.equal(
      await published(herald.url, publisherA, [
        ["topic", A],
        ["id", "urn:reused:1"],
        ["data", "a"],
      ]),
      "urn:reused:1",
    );
    await listener.receives("a");
    assert.deepEqual(listener.events, [{ id: "urn:reused:1", type: "message", data: "a" }]);
  });

  it("one publisher reusing an id for another update: both are dispatched", async () => {
    const listener = await pool.open(herald.url, [["topic", A]]);
    await published(herald.url, publisherA, [
      ["topic", A],
      ["id", "urn:reused:2"],
      ["data", "first"],
    ]);
    await published(herald.url, publisherA, [
      ["topic", A],
      ["id", "urn:reused:2"],
      ["data", "second"],
    ]);
    await listener.receives("second");
    assert.deepEqual(listener.data, ["first", "second"]);
  });

  it("Last-Event-ID with a reused id resumes after the earliest such update, later ones with that id included", async () => {
    await published(herald.url, publisherA, [
      ["topic", A],
      ["id", "urn:reused:3"],
      ["data", "r1"],
    ]);
    await published(herald.url, publisherA, [
      ["topic", A],
      ["data", "r2"],
    ]);
    await published(herald.url, publisherA, [
      ["topic", A],
      ["id", "urn:reused:3"],
      ["data", "r3"],
    ]);
    await published(herald.url, publisherA, [
      ["topic", A],
      ["data", "r4"],
    ]);
    const listener = await pool.open(herald.url, [["topic", A]], {
      headers: { "last-event-id": "urn:reused:3" },
    });
    await listener.receives("r4");
    assert.deepEqual(listener.data, ["r2", "r3", "r4"]);
    assert.equal(listener.headers?.get("last-event-id"), "urn:reused:3");
  });

  it("the subscriptions API's lastEventID and ETag never name a private update", async () => {
    const watcher = {
      authorization: `Bearer ${await mercureToken({ subscribe: ["/.well-known/mercure/subscriptions{/topic}{/subscriber}"] })}`,
    };
    await published(herald.url, publisherA, [
      ["topic", A],
      ["data", "public"],
    ]);
    const secret = await published(herald.url, publisherA, [
      ["topic", A],
      ["data", "secret"],
      ["private", "on"],
    ]);
    const answer = await httpRequest(`${herald.url}/.well-known/mercure/subscriptions`, { headers: watcher });
    assert.equal(answer.status, 200, answer.text);
    const lastEventID = (answer.body as { lastEventID: string }).lastEventID;
    assert.ok(!answer.text.includes(secret), `the body names the private update: ${answer.text}`);
    assert.ok(!String(answer.headers.etag).includes(secret), `the ETag names it: ${answer.headers.etag}`);
    // still a cursor: subscribing from it gets what comes later, not what came before
    const listener = await pool.open(herald.url, [["topic", A]], {
      headers: { "last-event-id": lastEventID },
    });
    await published(herald.url, publisherA, [
      ["topic", A],
      ["data", "later"],
    ]);
    await listener.receives("later");
    assert.deepEqual(listener.data, ["later"]);
  });
});
