import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, startTestHerald } from "../helpers/herald.ts";

/**
 * Commit 19f2f54 refuses (415) a body declared in a charset other than UTF-8. A media type's
 * parameter value may be a quoted-string holding ";" and "=" (RFC 9110 5.6.6), and then names no
 * charset: `application/json; profile="a;charset=latin1"` declares a UTF-8 JSON body. http/body.ts
 * splits the header on every ";" and reads `charset=latin1"` out of the quoted value: a UTF-8 body
 * is refused, with a message naming a charset `latin1"` the client never declared.
 */
describe("attack: a charset inside a quoted parameter value is not the body's charset", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald();
  });
  after(async () => {
    await herald.close();
  });

  it("publishes a JSON body whose Content-Type has a quoted parameter holding ';charset='", async () => {
    const sent = await httpRequest(`${herald.url}/publish`, {
      method: "POST",
      headers: { "content-type": 'application/json; profile="urn:x;charset=latin1"' },
      body: JSON.stringify({ topic: "t", data: "x" }),
    });
    assert.equal(sent.status, 200, `the body declares no charset (UTF-8); got ${sent.status} ${sent.text}`);
  });
});
