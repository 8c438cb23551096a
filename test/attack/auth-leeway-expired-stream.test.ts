import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { mintHs256 } from "../../packages/herald/src/auth/index.ts";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, RawStream, startTestHerald } from "../helpers/herald.ts";
import { bearer, TEST_SECRET } from "../helpers/tokens.ts";

/**
 * docs/auth.md: "Every token is checked for `exp` (expired) and `nbf` (not yet valid) when present,
 * with `HERALD_JWT_LEEWAY` of clock skew"; "The stream ends when the token expires [...] EventSource
 * then reconnects with `Last-Event-ID`; [...] with the old one it gets a 401 and stops." Found in an
 * attack round (2026-12-03): with `HERALD_JWT_LEEWAY=30s`, a token 5 s past its `exp` is accepted
 * (the verifier applies the leeway), but the stream's end is set at the bare `exp` (api/events.ts
 * `expiresAt: principal.expiresAt`, auth/authorizer.ts `exp * 1000`, no leeway): it answers 200,
 * `: ok`, then `: token expired` at once. EventSource reconnects, is accepted again, and is cut
 * again, for the whole leeway: a reconnect loop instead of a 401 or a working stream.
 * `POST /auth/cookie` likewise answers 204 with `Max-Age=0` (the browser drops the cookie it was
 * just given).
 */
describe("attack: a token inside HERALD_JWT_LEEWAY past its exp", () => {
  let herald: Herald;
  let token: string;
  before(async () => {
    herald = await startTestHerald({ jwtSecret: TEST_SECRET, jwtLeewayMs: 30_000 });
    const exp = Math.floor(Date.now() / 1000) - 5;
    token = await mintHs256(TEST_SECRET, { herald: { subscribe: ["a"] }, exp }, { subject: "s" });
  });
  after(async () => {
    await herald.close();
  });

  it("opens a stream that is not ended at once, or is refused with 401", async () => {
    const stream = new RawStream(`${herald.url}/events?topic=a`, bearer(token));
    await stream.until(() => stream.status !== 0);
    if (stream.status === 401) return;
    assert.equal(stream.status, 200);
    await stream.opened();
    await new Promise((resolve) => setTimeout(resolve, 300));
    stream.close();
    assert.doesNotMatch(
      stream.text,
      /: token expired/,
      "a token the hub accepts (within the leeway) must not end its stream the moment it opens",
    );
  });

  it("POST /auth/cookie does not answer 204 with a cookie that expires at once", async () => {
    const answer = await httpRequest(`${herald.url}/auth/cookie`, { method: "POST", headers: bearer(token) });
    if (answer.status === 401) return;
    assert.equal(answer.status, 204);
    const maxAge = /Max-Age=(\d+)/.exec(String(answer.headers["set-cookie"]))?.[1];
    assert.notEqual(maxAge, "0", `the accepted token's cookie: ${answer.headers["set-cookie"]}`);
  });
});
