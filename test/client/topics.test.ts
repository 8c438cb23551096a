import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import {
  type HeraldClientError,
  type HeraldMessage,
  publish,
  type StateChange,
  type Subscription,
  subscribe,
} from "../../packages/herald-client/src/index.ts";
import { closersForSuite, portOf, SurvivingBus } from "../helpers/restart.ts";
import { until } from "../helpers/waiters.ts";

/** subscription.add / remove: the topics of a live stream change; a reconnect keeps the current set. */

const ROUTES = readFileSync(new URL("../../packages/herald/src/routes.ts", import.meta.url), "utf8");
const liveChanges: string | false = ROUTES.includes("/streams/")
  ? false
  : "needs POST /streams/{id}/topics (branch streamctl)";

describe("subscription.add / remove against a real Herald", () => {
  const { closeLater, start } = closersForSuite(after);
  const open = (url: string, topics: string[]) => {
    const got: HeraldMessage[] = [];
    const states: StateChange["state"][] = [];
    const subscription: Subscription = subscribe({
      url,
      topics,
      transport: "fetch",
      initialDelayMs: 50,
      maxDelayMs: 200,
      onEvent: (m) => got.push(m),
      onStateChange: (c) => states.push(c.state),
    });
    closeLater(() => subscription.close());
    return { subscription, got, states, texts: () => got.map((m) => m.text) };
  };
  const opened = (s: Subscription) => until(() => s.state === "open", "the stream opens");

  test("add and remove change what arrives, nothing lost or repeated; after a reconnect the stream has the current topics", async () => {
    const bus = new SurvivingBus();
    let herald = await start(0, bus, { retryMs: 50 });
    const { subscription, got, texts } = open(herald.url, ["news"]);
    await opened(subscription);
    // before n1, so that neither way of adding (live, or a reconnect resuming after n1) brings it
    await publish({ url: herald.url, topic: "sports", data: "s0 (before add)" });
    await publish({ url: herald.url, topic: "news", data: "n1" });
    await until(() => got.length === 1, "n1");
    assert.deepEqual(await subscription.add(["sports"]), ["news", "sports"]);
    await opened(subscription);
    await publish({ url: herald.url, topic: "sports", data: "s1" });
    await publish({ url: herald.url, topic: "news", data: "n2" });
    await until(() => got.length >= 3, "s1, n2");
    assert.deepEqual(await subscription.remove("news"), ["sports"]);
    await opened(subscription);
    await publish({ url: herald.url, topic: "news", data: "n3 (after remove)" });
    await publish({ url: herald.url, topic: "sports", data: "s2" });
    await until(() => got.length >= 4, "s2");
    assert.deepEqual(texts(), ["n1", "s1", "n2", "s2"]);
    assert.deepEqual(subscription.currentTopics, ["sports"]);

    // the hub restarts: the reconnect asks for the current set and resumes after the last id
    const port = portOf(herald);
    await herald.close();
    await until(() => subscription.state === "reconnecting", "reconnecting");
    await bus.append([
      { topics: ["news"], data: "n4 (down, removed topic)" },
      { topics: ["sports"], data: "s3 (down)" },
    ]);
    herald = await start(port, bus, { retryMs: 50 });
    await until(() => got.length >= 5, "s3 replayed");
    await publish({ url: herald.url, topic: "sports", data: "s4" });
    await until(() => got.length >= 6, "s4");
    assert.deepEqual(texts(), ["n1", "s1", "n2", "s2", "s3 (down)", "s4"]);
  });

  test("bad input is refused before anything is sent, and changes nothing", async () => {
    const herald = await start(0);
    const { subscription } = open(herald.url, ["news"]);
    await opened(subscription);
    await assert.rejects(subscription.add([]), /add needs at least one non-empty topic/);
    await assert.rejects(subscription.add(""), /add needs at least one non-empty topic/);
    await assert.rejects(subscription.remove("news"), /no topic would be left; close\(\)/);
    assert.deepEqual(subscription.currentTopics, ["news"]);
    subscription.close();
    await assert.rejects(subscription.add("sports"), /closed/);
  });

  test("on a hub with live changes: the stream id is known, add/remove need no reconnect, a refusal keeps the topics", {
    skip: liveChanges,
  }, async () => {
    const herald = await start(0);
    const { subscription, got, states, texts } = open(herald.url, ["news"]);
    await until(() => subscription.streamId !== undefined, "the herald.stream event");
    assert.deepEqual(await subscription.add("sports"), ["news", "sports"]);
    await publish({ url: herald.url, topic: "sports", data: "s1" });
    await until(() => got.length === 1, "s1");
    assert.deepEqual(await subscription.remove("news"), ["sports"]);
    await publish({ url: herald.url, topic: "news", data: "n1 (removed)" });
    await publish({ url: herald.url, topic: "sports", data: "s2" });
    await until(() => got.length >= 2, "s2");
    assert.deepEqual(texts(), ["s1", "s2"], "herald.stream is not an application event");
    const refused = await subscription.add("x".repeat(300)).catch((e: HeraldClientError) => e);
    assert.equal((refused as HeraldClientError).status, 400);
    assert.deepEqual(subscription.currentTopics, ["sports"]);
    assert.deepEqual(states, ["connecting", "open"], "never reconnected");
  });
});
