import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, publish, startTestHerald } from "../helpers/herald.ts";

/**
 * docs/limits.md: "topic length | HERALD_MAX_TOPIC_LENGTH (256 characters) | 400"; configuration.md:
 * "longest topic, in characters". A topic of 200 characters outside the BMP (each is two UTF-16
 * code units) is under the limit: it must be accepted, and a refusal must not name a length the
 * topic does not have.
 */
describe("attack: the topic length limit counts characters", () => {
  let herald: Herald;
  const topic = "😀".repeat(200); // 200 characters, 400 UTF-16 code units, 800 UTF-8 bytes
  before(async () => {
    herald = await startTestHerald();
  });
  after(async () => {
    await herald.close();
  });

  it("accepts a publish to a topic of 200 characters", async () => {
    assert.equal([...topic].length, 200);
    const sent = await publish(herald.url, { topic, data: "x" });
    assert.equal(
      sent.status,
      200,
      `a 200-character topic is under the 256-character limit; got ${sent.text}`,
    );
  });

  it("accepts a stream on a topic of 200 characters", async () => {
    const head = await httpRequest(`${herald.url}/events?topic=${encodeURIComponent(topic)}`, {
      method: "HEAD",
    });
    assert.equal(
      head.status,
      200,
      `a 200-character topic is under the 256-character limit; got ${head.status}`,
    );
  });
});
