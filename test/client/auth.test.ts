import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { type HeraldClientError, publish, subscribe } from "../../packages/herald-client/src/index.ts";
import { startTestHerald } from "../helpers/herald.ts";
import { heraldToken, TEST_SECRET } from "../helpers/tokens.ts";
import { until } from "../helpers/waiters.ts";

describe("the SDK with JWT authorization on", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({
      jwtSecret: TEST_SECRET,
      allowAnonymousPublish: false,
      allowAnonymousSubscribe: false,
    });
  });
  after(() => herald.close());

  test("subscribe and publish with tokens; without one, both fail with Herald's 401", async () => {
    const subscriberToken = await heraldToken({ subscribe: ["orders/*"] });
    const publisherToken = await heraldToken({ publish: ["orders/*"] });
    const seen: unknown[] = [];
    const sub = subscribe({
      url: herald.url,
      topics: "orders/*",
      token: async () => subscriberToken,
      onEvent: (m) => seen.push(m.data),
    });
    await until(() => sub.state === "open", "open");
    await publish({
      url: herald.url,
      topic: "orders/7",
      data: { total: 12 },
      token: publisherToken,
      private: true,
    });
    await until(() => seen.length === 1, "the private event");
    assert.deepEqual(seen, [{ total: 12 }]);
    sub.close();

    await assert.rejects(
      publish({ url: herald.url, topic: "orders/7", data: 1 }),
      (error: HeraldClientError) => error.status === 401 && error.code === "unauthorized",
    );
    const anonymous = subscribe({ url: herald.url, topics: "orders/*", onEvent: () => {} });
    const error = (await anonymous.closed) as HeraldClientError;
    assert.equal(error.status, 401);
  });
});
