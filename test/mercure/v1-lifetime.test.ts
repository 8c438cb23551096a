import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { RawStream } from "../helpers/herald.ts";
import { HUB, listenerPool, published } from "./helpers.ts";
import { accessToken, detail, resourceOf, startModernHerald } from "./v1-helpers.ts";

/**
 * Spec "Subscribers": the hub MUST close a subscriber's connection no later than its token's
 * `exp`, and SHOULD impose a maximum connection lifetime independent of `exp` (the Mercure hub's
 * `write_timeout`, 600s by default): MERCURE_WRITE_TIMEOUT. The client reconnects and resumes
 * with Last-Event-ID, missing nothing.
 */
describe("Mercure 1.0: a stream's end (token exp, MERCURE_WRITE_TIMEOUT)", () => {
  let herald: Herald;
  let publisher: string;
  const streams: RawStream[] = [];
  const pool = listenerPool();

  before(async () => {
    herald = await startModernHerald({ mercureWriteTimeoutMs: 1500, retryMs: 100 });
    publisher = await accessToken(resourceOf(herald.url), [detail(["publish"], ["*"])]);
  });
  after(async () => {
    pool.closeAll();
    for (const stream of streams) stream.close();
    await herald.close();
  });

  it("closes a stream once it reached the maximum lifetime, and says why", async () => {
    const stream = new RawStream(`${herald.url}${HUB}?match=lifetime`);
    streams.push(stream);
    await stream.opened();
    await stream.until(() => stream.closed, 10_000);
    assert.match(stream.text, /: connection lifetime reached \(MERCURE_WRITE_TIMEOUT\): reconnect\n\n$/);
  });

  it("an EventSource reconnects after the lifetime and resumes with Last-Event-ID, missing nothing", async () => {
    const topic = "https://example.com/lifetime";
    const publish = (data: string) =>
      published(herald.url, publisher, [
        ["topic", topic],
        ["data", data],
      ]);
    const listener = await pool.open(herald.url, [["match", topic]]);
    const first = await publish("before");
    await listener.receives("before");
    await listener.until(() => listener.requests.length >= 2, 10_000, "a reconnection");
    assert.equal(listener.requests[1]?.["Last-Event-ID"], first);
    await publish("after");
    await listener.receives("after");
    assert.deepEqual(listener.data, ["before", "after"]);
  });

  it("closes a 1.0 subscriber's stream when its token expires (exp)", async () => {
    const noLifetime = await startModernHerald({ mercureWriteTimeoutMs: 0 });
    try {
      const token = await accessToken(resourceOf(noLifetime.url), [detail(["subscribe"], ["*"])], {
        expiresIn: 2,
      });
      const stream = new RawStream(`${noLifetime.url}${HUB}?match=exp`, { authorization: `Bearer ${token}` });
      streams.push(stream);
      // no wait for ": ok": on a loaded machine the expiry may come before the stream's first bytes
      await stream.until(() => stream.closed, 10_000);
      assert.match(stream.text, /: token expired\n\n$/);
    } finally {
      await noLifetime.close();
    }
  });
});
