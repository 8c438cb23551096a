import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, startTestHerald } from "../helpers/herald.ts";

/**
 * Commit 19f2f54: "a body declared in a charset other than UTF-8 is refused (415, naming it) on every
 * route that reads one"; docs/http-api.md: 415 for "any body declared in a `charset` other than
 * UTF-8 (every body Herald reads is UTF-8)". The seed's POST /broadcast reads a body (api/seed.ts)
 * without looking at its Content-Type: a body declared ISO-8859-1 is published (200), and one with a
 * non-ASCII Latin-1 byte is answered 400 "not valid UTF-8" instead of 415 naming the charset.
 */
describe("attack: POST /broadcast refuses a body declared in another charset", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald();
  });
  after(async () => {
    await herald.close();
  });

  it("answers 415 for charset=iso-8859-1, as POST /publish does", async () => {
    const headers = { "content-type": "application/json; charset=iso-8859-1" };
    const publish = await httpRequest(`${herald.url}/publish`, {
      method: "POST",
      headers,
      body: JSON.stringify({ topic: "t", data: "x" }),
    });
    assert.equal(publish.status, 415, publish.text); // the control: /publish holds the promise
    const broadcast = await httpRequest(`${herald.url}/broadcast`, {
      method: "POST",
      headers,
      body: JSON.stringify({ price: 1 }),
    });
    assert.equal(
      broadcast.status,
      415,
      `a body declared ISO-8859-1 must be refused; got ${broadcast.status} ${broadcast.text}`,
    );
    assert.match(broadcast.text, /iso-8859-1/);
  });

  it("answers 415, not a UTF-8 syntax error, for Latin-1 bytes declared as such", async () => {
    const body = new Uint8Array(Buffer.from('{"name":"caf\u00e9"}', "latin1"));
    const broadcast = await httpRequest(`${herald.url}/broadcast`, {
      method: "POST",
      headers: { "content-type": "application/json; charset=iso-8859-1" },
      body,
    });
    assert.equal(broadcast.status, 415, `got ${broadcast.status} ${broadcast.text}`);
  });
});
