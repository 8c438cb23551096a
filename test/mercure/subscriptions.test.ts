import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest } from "../helpers/herald.ts";
import { until } from "../helpers/waiters.ts";
import { HUB, listen, type MercureListener, mercureToken, published, startMercureHerald } from "./helpers.ts";

const WATCH = "/.well-known/mercure/subscriptions{/topic}{/subscriber}";
const SELECTOR = "https://example.com/books/{id}";

interface SubscriptionDoc {
  "@context"?: string;
  id: string;
  type: string;
  topic: string;
  subscriber: string;
  active: boolean;
  payload?: unknown;
  lastEventID?: string;
}

describe("Mercure subscriptions API", () => {
  let herald: Herald;
  let url: string;
  let watcherToken: string;
  const listeners: MercureListener[] = [];

  before(async () => {
    herald = await startMercureHerald({ mercureSubscriptions: true });
    url = herald.url;
    watcherToken = await mercureToken({ subscribe: [WATCH] });
  });
  after(async () => {
    for (const listener of listeners) listener.close();
    await herald.close();
  });

  it("publishes private subscription events and lists active subscriptions as JSON-LD", async () => {
    const auth = { authorization: `Bearer ${watcherToken}` };
    const watcher = await listen(url, [["topic", WATCH]], { headers: auth });
    const anonymousWatcher = await listen(url, [["topic", WATCH]]);
    listeners.push(watcher, anonymousWatcher);

    const subscriberToken = await mercureToken({ subscribe: [], payload: { user: "alice", groups: ["a"] } });
    const alice = await listen(url, [["topic", SELECTOR]], {
      headers: { authorization: `Bearer ${subscriberToken}` },
    });
    await watcher.until(() => watcher.events.some((e) => JSON.parse(e.data).topic === SELECTOR));
    const event = JSON.parse(watcher.events.find((e) => JSON.parse(e.data).topic === SELECTOR)!.data);
    const subscriber = event.subscriber as string;
    assert.match(subscriber, /^urn:uuid:[0-9a-f-]{36}$/);
    const expectedId = `/.well-known/mercure/subscriptions/${encodeURIComponent(SELECTOR)}/${encodeURIComponent(subscriber)}`;
    assert.deepEqual(event, {
      "@context": "https://mercure.rocks/",
      id: expectedId,
      type: "Subscription",
      topic: SELECTOR,
      subscriber,
      active: true,
      payload: { user: "alice", groups: ["a"] },
    });
    assert.ok(
      expectedId.includes("https%3A%2F%2Fexample.com%2Fbooks%2F%7Bid%7D"),
      "reserved characters are encoded",
    );

    // The collection, one topic's collection, one subscription.
    const lastId = await published(url, await mercureToken({ publish: ["*"] }), [
      ["topic", "other"],
      ["data", "x"],
    ]);
    const all = await httpRequest(`${url}/.well-known/mercure/subscriptions`, { headers: auth });
    assert.equal(all.status, 200);
    assert.equal(all.headers["content-type"], "application/ld+json");
    const collection = all.body as {
      id: string;
      type: string;
      lastEventID: string;
      subscriptions: SubscriptionDoc[];
    };
    assert.equal(collection.type, "Subscriptions");
    assert.equal(collection.id, "/.well-known/mercure/subscriptions");
    // the hub's position (`<epoch>-<n>`): a cursor that names no update (the newest one may be private)
    assert.match(collection.lastEventID, /^[0-9a-z]+-\d+$/);
    assert.notEqual(collection.lastEventID, lastId);
    assert.deepEqual(
      collection.subscriptions.map((s) => s.topic).sort(),
      [SELECTOR, WATCH, WATCH].sort(),
      "the watchers and alice",
    );

    const etag = all.headers.etag as string;
    assert.ok(etag.startsWith('"'), "an ETag");
    const unchanged = await httpRequest(`${url}/.well-known/mercure/subscriptions`, {
      headers: { ...auth, "if-none-match": etag },
    });
    assert.equal(unchanged.status, 304);

    const byTopic = await httpRequest(
      `${url}/.well-known/mercure/subscriptions/${encodeURIComponent(SELECTOR)}`,
      {
        headers: auth,
      },
    );
    assert.equal(byTopic.status, 200, byTopic.text);
    const topicDocs = (byTopic.body as { subscriptions: SubscriptionDoc[] }).subscriptions;
    assert.equal(topicDocs.length, 1);
    assert.equal(topicDocs[0]!.subscriber, subscriber);

    const one = await httpRequest(`${url}${expectedId}`, { headers: auth });
    assert.equal(one.status, 200, one.text);
    const doc = one.body as SubscriptionDoc;
    assert.equal(doc["@context"], "https://mercure.rocks/");
    assert.equal(doc.id, expectedId);
    assert.equal(doc.active, true);
    assert.deepEqual(doc.payload, { user: "alice", groups: ["a"] });
    assert.equal(doc.lastEventID, collection.lastEventID);

    // Leaving publishes `active: false`; the subscription is gone from the API.
    alice.close();
    await watcher.until(() =>
      watcher.events.some((e) => {
        const d = JSON.parse(e.data);
        return d.subscriber === subscriber && d.active === false;
      }),
    );
    const gone = await httpRequest(`${url}${expectedId}`, { headers: auth });
    assert.equal(gone.status, 404);

    // Subscription events are private: the anonymous watcher saw none of them.
    await published(url, await mercureToken({ publish: ["*"] }), [
      ["topic", "/x"],
      ["data", "y"],
    ]);
    assert.deepEqual(anonymousWatcher.data, []);
  });

  it("protects the API with the subscriber's mercure.subscribe claim", async () => {
    const none = await httpRequest(`${url}/.well-known/mercure/subscriptions`);
    assert.equal(none.status, 401);
    const narrow = await mercureToken({ subscribe: ["https://example.com/books/1"] });
    const refused = await httpRequest(`${url}/.well-known/mercure/subscriptions`, {
      headers: { authorization: `Bearer ${narrow}` },
    });
    assert.equal(refused.status, 403);
    assert.match(refused.text, /mercure\.subscribe/);
    const unknown = await httpRequest(`${url}/.well-known/mercure/subscriptions/a/b`, {
      headers: { authorization: `Bearer ${watcherToken}` },
    });
    assert.equal(unknown.status, 404);
  });

  it("still lets in a subscriber whose subscription topic would be too long for an event", async () => {
    const long = `https://example.com/${"x".repeat(220)}`;
    const sub = await listen(url, [["topic", long]]);
    listeners.push(sub);
    assert.equal(sub.status, 200);
    const all = await httpRequest(`${url}/.well-known/mercure/subscriptions`, {
      headers: { authorization: `Bearer ${watcherToken}` },
    });
    const topics = (all.body as { subscriptions: SubscriptionDoc[] }).subscriptions.map((s) => s.topic);
    assert.ok(topics.includes(long), "listed by the API even without its event");
  });

  it("leaves nothing behind when 200 clients connect and drop at once", async () => {
    const before = { streams: herald.streamLimits.open, subscribers: herald.hub.subscriberCount };
    const registered = (herald.mercure.context.subscriptions as { size: number }).size;
    await Promise.all(
      Array.from(
        { length: 200 },
        (_, i) =>
          new Promise<void>((resolve) => {
            const socket = connect(Number(new URL(url).port), "127.0.0.1", () => {
              socket.write(`GET ${HUB}?topic=drop/${i % 7} HTTP/1.1\r\nHost: x\r\n\r\n`);
              // Some leave at once, some once the stream has started.
              if (i % 2 === 0) socket.destroy();
              else socket.once("data", () => socket.destroy());
            });
            socket.on("close", () => resolve());
            socket.on("error", () => resolve());
          }),
      ),
    );
    await until(
      () =>
        herald.streamLimits.open === before.streams &&
        herald.hub.subscriberCount === before.subscribers &&
        (herald.mercure.context.subscriptions as { size: number }).size === registered &&
        herald.mercure.context.connections.size === before.streams,
      "every stream and subscription released",
      5000,
    );
  });

  it("answers 404 when the API is off", async () => {
    const plain = await startMercureHerald();
    try {
      const answer = await httpRequest(`${plain.url}/.well-known/mercure/subscriptions`);
      assert.equal(answer.status, 404);
      assert.match(answer.text, /MERCURE_SUBSCRIPTIONS/);
    } finally {
      await plain.close();
    }
  });
});
