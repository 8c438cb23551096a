import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type HeraldMessage, publish, subscribe } from "../../packages/herald-client/src/index.ts";
import { type HeraldProcess, spawnHerald, stopHerald } from "../helpers/process.ts";
import { until } from "../helpers/waiters.ts";

/**
 * Promise (docs/client.md, `share`): "Outside a page (Node, workers) `share` is ignored: the
 * subscription has a stream of its own"; and the `Subscription` has "`add(topics)` /
 * `remove(topics)`" ("Not available on a shared subscription"). The same code runs in a page and
 * on a server (server-side rendering, a Node script sharing the app's module).
 *
 * Found in an attack round (2026-12-03): in Node, `share: true` is not ignored: the subscription
 * has a stream of its own (`share` is undefined) yet `add`/`remove` reject with "a shared
 * subscription cannot change topics" (`Subscription.changeTopics` tests the option, not whether it
 * shares), and a token function throws "share needs a string token" at `subscribe`, where no tab
 * shares anything.
 */
describe("attack: sdk: share in Node, where it is ignored", () => {
  let herald: HeraldProcess | undefined;
  before(async () => {
    herald = await spawnHerald([], { HERALD_RETRY: "100ms" });
  });
  after(async () => {
    if (herald !== undefined) await stopHerald(herald);
  });

  it("add works on the subscription's own stream", async () => {
    const url = (herald as HeraldProcess).url;
    const got: HeraldMessage[] = [];
    const sub = subscribe({ url, topics: ["a"], share: true, onEvent: (m) => got.push(m) });
    try {
      assert.equal(sub.share, undefined, "not shared: a stream of its own");
      await until(() => sub.streamId !== undefined, "the stream");
      assert.deepEqual(await sub.add("b"), ["a", "b"]);
      await publish({ url, topic: "b", data: "b1" });
      await until(() => got.length === 1, "b1");
    } finally {
      sub.close();
    }
  });

  it("a token function is taken (it is called before every connection, as without share)", async () => {
    const url = (herald as HeraldProcess).url;
    let calls = 0;
    let sub: ReturnType<typeof subscribe> | undefined;
    assert.doesNotThrow(() => {
      sub = subscribe({
        url,
        topics: ["a"],
        share: true,
        token: () => {
          calls++;
          return undefined as unknown as string;
        },
      });
    });
    try {
      await until(() => calls > 0 || sub === undefined, "the token function called");
    } finally {
      sub?.close();
    }
  });
});
