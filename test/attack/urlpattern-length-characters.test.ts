import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest } from "../helpers/herald.ts";
import { HUB } from "../mercure/helpers.ts";
import { startModernHerald } from "../mercure/v1-helpers.ts";

/**
 * Commit 2b8a66a: "topic, id and type lengths count characters (code points), as the docs and
 * messages say". A Mercure 1.0 `match_urlpattern` is bounded by HERALD_MAX_TOPIC_LENGTH (256
 * characters, docs/limits.md) and the refusal says "characters". The request parser counts code
 * points (mercure/v1/subscribe-request.ts), but compileUrlPattern (mercure/v1/urlpattern.ts) then
 * counts UTF-16 code units: a pattern of 140 characters (120 outside the BMP) is refused as "260
 * characters long", while `match` with the same 140-character text is accepted.
 */
describe("attack: a match_urlpattern's length counts characters", () => {
  let herald: Herald;
  const pattern = `https://example.com/${"😀".repeat(120)}`; // 140 characters, 260 UTF-16 code units
  before(async () => {
    herald = await startModernHerald();
  });
  after(async () => {
    await herald.close();
  });

  it("accepts match of 140 characters (the control)", async () => {
    assert.equal([...pattern].length, 140);
    const head = await httpRequest(`${herald.url}${HUB}?match=${encodeURIComponent(pattern)}`, {
      method: "HEAD",
    });
    assert.equal(head.status, 200);
  });

  it("accepts match_urlpattern of 140 characters, under the 256-character limit", async () => {
    const got = await httpRequest(`${herald.url}${HUB}?match_urlpattern=${encodeURIComponent(pattern)}`, {
      method: "HEAD",
    });
    let message = "";
    if (got.status !== 200) {
      const get = await httpRequest(`${herald.url}${HUB}?match_urlpattern=${encodeURIComponent(pattern)}`);
      message = get.text;
    }
    assert.equal(
      got.status,
      200,
      `a 140-character URL pattern is under the 256-character limit; got ${got.status} ${message}`,
    );
  });
});
