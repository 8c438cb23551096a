import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { type HeraldMessage, publish, subscribe } from "../../packages/herald-client/src/index.ts";
import { closersForSuite } from "../helpers/restart.ts";
import { until } from "../helpers/waiters.ts";

/** `share` outside a page (here Node, which has Web Locks and BroadcastChannel from 24 on): ignored. */
describe("share where there are no tabs", () => {
  const { closeLater, start } = closersForSuite(after);

  test("in Node, share: true is a stream of its own, also with a token function", async () => {
    const herald = await start(0);
    const got: HeraldMessage[] = [];
    const subscription = subscribe({
      url: herald.url,
      topics: ["news"],
      share: true,
      onEvent: (m) => got.push(m),
    });
    closeLater(() => subscription.close());
    await until(() => subscription.state === "open", "open");
    assert.equal(subscription.share, undefined);
    await publish({ url: herald.url, topic: "news", data: "n1" });
    await until(() => got.length === 1, "n1");
    assert.equal(got[0]?.text, "n1");
    // a token function is taken too (sharing needs a string token only where tabs share)
    const withFunction = subscribe({
      url: herald.url,
      topics: ["news"],
      share: true,
      token: () => undefined,
    });
    closeLater(() => withFunction.close());
    await until(() => withFunction.state === "open", "open with a token function");
    assert.equal(withFunction.share, undefined);
  });
});
