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
 * Promise (docs/client.md "Changing topics without reconnecting"): "A refusal (400 bad topic, 403
 * not allowed) rejects with a `HeraldClientError` ... and leaves `currentTopics` as it was" and
 * "every reconnect asks for `currentTopics` (so a resume after a drop keeps the topics as they are
 * now)"; issue 16: "resume after a reconnect keeps the current topic set". So what the stream
 * delivers follows `currentTopics`.
 *
 * Found in an attack round (2026-12-03): `LiveTopics.change` sets the new list before it sends
 * `POST /streams/{id}/topics`, and puts the old one back when that request fails. When the stream
 * drops while the request is out, the reconnect asks for the NEW list (the change is pending); the
 * request then fails (the network blip that dropped the stream), `add` rejects and `currentTopics`
 * goes back to `["a"]`, but the new stream has `a` and `b`: the app is told `b` was not added and
 * gets `b`'s events anyway, until some later reconnect silently drops `b` again.
 *
 * The fault is injected in the network layer the SDK is given (`fetch`): the stream's body errors
 * (a drop), and the POST fails as a network error once the reconnected stream is open. Herald is
 * a real process.
 */
describe("sdk: a change whose request fails while the stream reconnects", () => {
  let herald: HeraldProcess | undefined;
  before(async () => {
    herald = await spawnHerald([], { HERALD_RETRY: "100ms" });
  });
  after(async () => {
    if (herald !== undefined) await stopHerald(herald);
  });

  it("add rejects; then the stream does not deliver b, and currentTopics is what the stream has", async () => {
    const url = (herald as HeraldProcess).url;
    /** The open stream bodies (the drop errors the last one). */
    const bodies: ReadableStreamDefaultController<Uint8Array>[] = [];
    let streamsOpened = 0;
    let subscription: Subscription | undefined;
    const flaky: typeof fetch = async (input, init) => {
      const target = new URL(String(input instanceof Request ? input.url : input));
      if (target.pathname.startsWith("/streams/")) {
        // the network drops: the stream breaks, and this request never gets an answer
        bodies.at(-1)?.error(new TypeError("network connection lost"));
        const before = streamsOpened;
        await until(() => streamsOpened > before && subscription?.state === "open", "the reconnected stream");
        throw new TypeError("fetch failed");
      }
      const response = await fetch(input, init);
      if (response.body === null) return response;
      const reader = response.body.getReader();
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          bodies.push(controller);
          streamsOpened++;
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
      transport: "fetch",
      fetch: flaky,
      initialDelayMs: 50,
      maxDelayMs: 200,
      onEvent: (m) => got.push(m),
    });
    try {
      await until(() => subscription?.state === "open" && subscription.streamId !== undefined, "open");
      await assert.rejects(subscription.add(["b"]), "the change's request failed");
      assert.deepEqual(subscription.currentTopics, ["a"], "add rejected: the topics are as they were");
      await until(() => subscription?.streamId !== undefined, "the new stream's id");
      await publish({ url, topic: "b", data: "b1" });
      await publish({ url, topic: "a", data: "a1" });
      await until(() => got.some((m) => m.text === "a1"), "a1");
      assert.deepEqual(
        got.map((m) => m.text),
        ["a1"],
        `currentTopics is ${JSON.stringify(subscription.currentTopics)}, yet the stream delivered b`,
      );
    } finally {
      subscription.close();
    }
  });
});
