import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { listen, mercurePublish } from "../mercure/helpers.ts";
import { accessToken, detail, resourceOf, startModernHerald } from "../mercure/v1-helpers.ts";

/**
 * Promise (spec/mercure.md, 1.0.0-alpha.3, "Publication"): "`retry` (optional): the SSE `retry`
 * property (the reconnection time). The value MUST consist solely of ASCII digits (U+0030–U+0039);
 * hubs MUST reject violating values with a 400". docs/mercure.md: "`retry` | the SSE `retry`, in
 * milliseconds (digits only)". The Mercure hub parses it with strconv.ParseUint(…, 10, 64)
 * (publish.go), so leading zeros and values up to 2^64-1 are accepted.
 *
 * Found (2026-12-03): Herald accepts at most 15 digits (mercure/publish.ts: /^\d{1,15}$/), so
 * `retry=0000000000000003000` (3000 ms, written with leading zeros, as a fixed-width serializer
 * does) and a 16-digit value are refused with 400 '"retry" must be a whole number of milliseconds,
 * such as 3000': the value is a whole number of milliseconds, and the message does not say what
 * the limit is.
 */
describe("Mercure 1.0: retry made of ASCII digits", () => {
  let herald: Herald;
  let publisher: string;
  before(async () => {
    herald = await startModernHerald();
    publisher = await accessToken(resourceOf(herald.url), [detail(["publish"], ["*"])]);
  });
  after(() => herald.close());

  it("accepts retry=0000000000000003000 (leading zeros) and delivers retry 3000", async () => {
    const topic = "https://example.com/retry/zeros";
    const subscriber = await listen(herald.url, [["match", topic]]);
    try {
      const answer = await mercurePublish(
        herald.url,
        [
          ["topic", topic],
          ["data", "zeros"],
          ["retry", "0000000000000003000"],
        ],
        { authorization: `Bearer ${publisher}` },
      );
      assert.equal(answer.status, 200, answer.text);
      await subscriber.receives("zeros");
    } finally {
      subscriber.close();
    }
  });

  it("does not answer a 16-digit retry with a message that says it is not a whole number", async () => {
    const answer = await mercurePublish(
      herald.url,
      [
        ["topic", "https://example.com/retry/long"],
        ["data", "long"],
        ["retry", "1000000000000000"],
      ],
      { authorization: `Bearer ${publisher}` },
    );
    // accepted (as the Mercure hub does), or refused with a message naming the limit
    if (answer.status !== 200) {
      assert.equal(answer.status, 400);
      assert.doesNotMatch(answer.text, /must be a whole number/, answer.text);
    }
  });
});
