import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { httpRequest } from "../helpers/herald.ts";
import { type HeraldProcess, spawnWorkers, stopHerald } from "../helpers/process.ts";
import { eventually } from "../helpers/waiters.ts";
import { listen, type MercureListener, mercureToken, SECRET } from "./helpers.ts";

const WATCH = "/.well-known/mercure/subscriptions{/topic}{/subscriber}";

describe("--workers 2: the Mercure subscriptions API lists every worker's subscribers", () => {
  let herald: HeraldProcess;
  const listeners: MercureListener[] = [];
  before(async () => {
    herald = await spawnWorkers(2, {
      MERCURE_SUBSCRIPTIONS: "true",
      MERCURE_JWT_KEY: SECRET,
      MERCURE_PROTOCOL_VERSION_COMPATIBILITY: "8",
      MERCURE_ANONYMOUS: "true",
    });
  });
  after(async () => {
    for (const listener of listeners) listener.close();
    await stopHerald(herald);
  });

  it("lists the subscriptions of both workers, and forgets those that end", async () => {
    const auth = { authorization: `Bearer ${await mercureToken({ subscribe: [WATCH] })}` };
    const list = async () => {
      const answer = await httpRequest(`${herald.url}/.well-known/mercure/subscriptions`, { headers: auth });
      assert.equal(answer.status, 200, answer.text);
      return (answer.body as { subscriptions: { topic: string; subscriber: string }[] }).subscriptions;
    };
    for (let i = 0; i < 4; i++) listeners.push(await listen(herald.url, [["topic", `books/${i}`]]));
    const status = (await httpRequest(`${herald.url}/status`)).body as {
      perWorker: { subscriptions: number }[];
    };
    assert.ok(
      status.perWorker.length === 2 && status.perWorker.every((w) => w.subscriptions > 0),
      `the subscribers are on both workers: ${JSON.stringify(status.perWorker)}`,
    );
    const all = await list();
    assert.deepEqual(all.map((s) => s.topic).sort(), ["books/0", "books/1", "books/2", "books/3"]);

    const one = all.find((s) => s.topic === "books/2");
    assert.ok(one);
    const single = await httpRequest(
      `${herald.url}/.well-known/mercure/subscriptions/${encodeURIComponent(one.topic)}/${encodeURIComponent(one.subscriber)}`,
      { headers: auth },
    );
    assert.equal(single.status, 200, "one subscription, whichever worker holds it and whichever answers");

    for (const listener of listeners.splice(0, 2)) listener.close();
    await eventually(async () => (await list()).length === 2, "the closed subscriptions to leave the list");
    assert.deepEqual((await list()).map((s) => s.topic).sort(), ["books/2", "books/3"]);
  });
});
