import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { mintHs256 } from "../../packages/herald/src/auth/index.ts";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { RawStream, startTestHerald } from "../helpers/herald.ts";
import { bearer, TEST_SECRET } from "../helpers/tokens.ts";
import { HUB } from "../mercure/helpers.ts";
import { accessToken, detail, ISSUER, resourceOf } from "../mercure/v1-helpers.ts";

/**
 * docs/auth.md: "Every token is checked for `exp` [...] with `HERALD_JWT_LEEWAY` of clock skew: a
 * token is good until its `exp` plus the leeway, for everything made with it (a stream's end, ...)".
 * This session fixed it for Herald's own streams (auth/authorizer.ts `principalOf(..., leewayMs)`),
 * not for Mercure streams verified by the same key. Found in an attack round (2026-12-03): with no
 * MERCURE_* key, Mercure 0.x tokens are verified by Herald's verifier (mercure/keys.ts
 * `mercureVerifiers` falls back to `heraldVerifier`, which applies the leeway), so a token 5 s past
 * its `exp` is accepted (200, the stream opens), but mercure/claims.ts sets
 * `expiresAt: payload.exp * 1000` with no leeway: the stream is ended at once, and an EventSource
 * reconnects into the same cut, for the whole leeway (a reconnect loop, never a 401).
 * The same holds for a Mercure 1.0 access token with MERCURE_ISSUER bound to Herald's key
 * (mercure/v1/tokens.ts `expiresAt: payload.exp * 1000`).
 */
describe("attack: a Mercure token inside HERALD_JWT_LEEWAY past its exp", () => {
  let herald: Herald;
  let token: string;
  before(async () => {
    herald = await startTestHerald({
      jwtSecret: TEST_SECRET,
      jwtLeewayMs: 30_000,
      mercureProtocolCompatibility: 8,
    });
    const exp = Math.floor(Date.now() / 1000) - 5;
    token = await mintHs256(TEST_SECRET, { mercure: { subscribe: ["*"] }, exp }, { subject: "s" });
  });
  after(async () => {
    await herald.close();
  });

  it("opens a Mercure stream that is not ended at once, or refuses it with 401", async () => {
    const stream = new RawStream(
      `${herald.url}${HUB}?topic=${encodeURIComponent("https://example.com/a")}`,
      bearer(token),
    );
    await stream.until(() => stream.status !== 0);
    if (stream.status === 401) return;
    assert.equal(stream.status, 200, stream.text);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const closed = stream.closed;
    stream.close();
    assert.equal(
      closed,
      false,
      `a token the hub accepts (within the leeway) must not end its stream the moment it opens; stream: ${JSON.stringify(stream.text)}`,
    );
  });
});

describe("attack: a Mercure 1.0 access token inside HERALD_JWT_LEEWAY past its exp", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({ jwtSecret: TEST_SECRET, jwtLeewayMs: 30_000, mercureIssuer: ISSUER });
  });
  after(async () => {
    await herald.close();
  });

  it("opens a 1.0 stream that is not ended at once, or refuses it with 401", async () => {
    const topic = "https://example.com/a";
    const token = await accessToken(resourceOf(herald.url), [detail(["subscribe"], [topic])], {
      secret: TEST_SECRET,
      expiresIn: -5,
    });
    const stream = new RawStream(`${herald.url}${HUB}?match=${encodeURIComponent(topic)}`, bearer(token));
    await stream.until(() => stream.status !== 0);
    if (stream.status === 401) return;
    assert.equal(stream.status, 200, stream.text);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const closed = stream.closed;
    stream.close();
    assert.equal(
      closed,
      false,
      `a token the hub accepts (within the leeway) must not end its stream the moment it opens; stream: ${JSON.stringify(stream.text)}`,
    );
  });
});
