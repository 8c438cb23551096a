import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  type HeraldMessage,
  publish,
  type Subscription,
  subscribe,
} from "../../packages/herald-client/src/index.ts";
import { type HeraldProcess, spawnHerald, stopHerald } from "../helpers/process.ts";
import { until } from "../helpers/waiters.ts";

/**
 * Promise (docs/client.md "Changing topics without reconnecting"): "While the subscription is
 * reconnecting the change is only recorded, and the next connection asks for the new set; every
 * reconnect asks for `currentTopics` (so a resume after a drop keeps the topics as they are now)";
 * "After a drop the SDK ... connects again with `Last-Event-ID` ... The hub replays every event
 * published meanwhile, with no gap"; the SDK "never loses an event silently".
 *
 * Found in an attack round (2026-12-03): an `add` made while the reconnect's request is on its way
 * (the URL already built with the old topics, the state still `reconnecting`) resolves at once with
 * `["a", "b"]` (`LiveTopics.change`: "the next connection asks for them"), but the connection on its
 * way asks for `a` only. It resumes after the last id with `a`; the SDK then sends the difference
 * (`POST .../topics {"add": ["b"]}`) when `herald.stream` arrives, which the hub applies at ITS
 * position in the log. A `b` event published after `add` resolved, but before that difference
 * reached the hub, is on neither side: not in the resume's replay (the stream asked for `a`), not
 * after the change. It is lost, with no `herald.missed`. Had the request been sent a moment later
 * (asking for `a` and `b`), the replay would have carried it.
 *
 * The moment is taken with the SDK's `fetch` option (the real fetch, with a hook): the stream is
 * dropped as a network error would, and the reconnect's GET waits while the app adds `b` and
 * publishes on it. Herald is a real process.
 */
describe("attack: sdk: add while the reconnect's request is on its way", () => {
  let herald: HeraldProcess | undefined;
  before(async () => {
    herald = await spawnHerald([], { HERALD_RETRY: "100ms" });
  });
  after(async () => {
    if (herald !== undefined) await stopHerald(herald);
  });

  it("a b event published after add resolved reaches the subscription", async () => {
    const url = (herald as HeraldProcess).url;
    const bodies: ReadableStreamDefaultController<Uint8Array>[] = [];
    let gets = 0;
    let subscription: Subscription | undefined;
    let added: readonly string[] | undefined;
    const hooked: typeof fetch = async (input, init) => {
      const target = new URL(String(input instanceof Request ? input.url : input));
      if (target.pathname === "/events" && ++gets === 2) {
        // the reconnect: its URL is built (topic=a); meanwhile the app adds b and b gets an event
        added = await subscription?.add("b");
        await publish({ url, topic: "b", data: "b after add" });
      }
      const response = await fetch(input, init);
      if (target.pathname !== "/events" || response.body === null) return response;
      const reader = response.body.getReader();
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          bodies.push(controller);
        },
        async pull(controller) {
          try {
            const { done, value } = await reader.read();
            if (done) controller.close();
            else controller.enqueue(value);
          } catch (error) {
            controller.error(error);
          }
        },
        cancel() {
          void reader.cancel().catch(() => {});
        },
      });
      return new Response(body, { status: response.status, headers: response.headers });
    };
    const got: HeraldMessage[] = [];
    subscription = subscribe({
      url,
      topics: ["a"],
      fetch: hooked,
      initialDelayMs: 100,
      onEvent: (m) => got.push(m),
    });
    const sub = subscription;
    try {
      await until(() => sub.streamId !== undefined, "the first stream");
      await publish({ url, topic: "a", data: "a1" });
      await until(() => got.length === 1, "a1");
      // the network drops the stream
      bodies.at(-1)?.error(new TypeError("network connection lost"));
      await until(() => added !== undefined, "add during the reconnect");
      assert.deepEqual(added, ["a", "b"], "add resolved with b on the subscription");
      // the new stream has b (the difference was applied, or the SDK connected again with a and b,
      // resuming after a1): a later b event arrives
      await until(() => sub.streamId !== undefined && gets >= 2, "the reconnected stream");
      for (let i = 0; !got.some((m) => m.text.startsWith("b later")); i++) {
        await publish({ url, topic: "b", data: `b later ${i}` });
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (i > 100) break;
      }
      assert.deepEqual(sub.currentTopics, ["a", "b"]);
      assert.deepEqual(
        got.map((m) => m.text).slice(0, 3),
        ["a1", "b after add", "b later 0"],
        "every b event published after add resolved arrives, once, in order",
      );
    } finally {
      sub.close();
    }
  });

  // The first connection of a subscription given `lastEventId` is a resume too: the same hole.
  it("the same on the first connection, resuming after a lastEventId given at subscribe", async () => {
    const url = (herald as HeraldProcess).url;
    const { id: from } = await publish({ url, topic: "c", data: "c0" });
    let gets = 0;
    let subscription: Subscription | undefined;
    let added: readonly string[] | undefined;
    const hooked: typeof fetch = async (input, init) => {
      const target = new URL(String(input instanceof Request ? input.url : input));
      if (target.pathname === "/events" && ++gets === 1) {
        // the first connection: its URL is built (topic=c); meanwhile the app adds d and d gets an event
        await new Promise((resolve) => setTimeout(resolve, 0));
        added = await subscription?.add("d");
        await publish({ url, topic: "d", data: "d after add" });
      }
      return fetch(input, init);
    };
    const got: HeraldMessage[] = [];
    subscription = subscribe({
      url,
      topics: ["c"],
      lastEventId: from,
      fetch: hooked,
      initialDelayMs: 100,
      onEvent: (m) => got.push(m),
    });
    const sub = subscription;
    try {
      await until(() => added !== undefined, "add during the first connection");
      assert.deepEqual(added, ["c", "d"], "add resolved with d on the subscription");
      await until(() => sub.streamId !== undefined, "a stream");
      for (let i = 0; !got.some((m) => m.text.startsWith("d later")); i++) {
        await publish({ url, topic: "d", data: `d later ${i}` });
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (i > 100) break;
      }
      assert.deepEqual(sub.currentTopics, ["c", "d"]);
      assert.deepEqual(
        got.map((m) => m.text).slice(0, 2),
        ["d after add", "d later 0"],
        "every d event published after add resolved arrives, once, in order",
      );
    } finally {
      sub.close();
    }
  });
});
