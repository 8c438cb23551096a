import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RateLimiter } from "../../packages/herald/src/access/rate-limiter.ts";
import { ConfigError, defaultsWith, loadConfig } from "../../packages/herald/src/config/settings.ts";
import {
  AuthError,
  anonymousPrincipal,
  authorizePublish,
  type Principal,
} from "../../packages/herald/src/core/auth.ts";
import { parseSelector } from "../../packages/herald/src/core/topic.ts";
import { startHerald } from "../../packages/herald/src/herald.ts";
import { readCookie, serializeCookie } from "../../packages/herald/src/http/cookies.ts";

describe("publish authorization", () => {
  const principal: Principal = {
    id: "sub:a",
    anonymous: false,
    publish: ["news", "orders/*"].map(parseSelector),
    subscribe: [],
    expiresAt: undefined,
  };
  it("needs every topic of the event to match a publish selector", () => {
    authorizePublish(principal, ["news", "orders/1", "orders/eu/2"]);
    assert.throws(
      () => authorizePublish(principal, ["news", "orders"]),
      (error: unknown) => {
        assert.ok(error instanceof AuthError);
        assert.equal(error.code, "forbidden");
        assert.match(error.challenge, /error="insufficient_scope"/);
        return true;
      },
    );
    authorizePublish(anonymousPrincipal("1.2.3.4", true), ["anything"]);
    assert.throws(() => authorizePublish(anonymousPrincipal("1.2.3.4", false), ["x"]), AuthError);
  });
  it("never puts a quote, backslash or control character in the challenge", () => {
    const error = new AuthError("unauthorized", "invalid_token", 'bad "x" \\ \n é');
    assert.equal(
      error.challenge,
      `Bearer realm="herald", error="invalid_token", error_description="bad 'x' ' ? ?"`,
    );
  });
});

describe("publish rate limiter", () => {
  it("allows a burst, then the rate, per key, with Retry-After", () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSec: 2, burst: 3, now: () => now });
    for (let i = 0; i < 3; i++) limiter.take("a");
    assert.throws(() => limiter.take("a"), { code: "too_many_requests", retryAfterSeconds: 1 });
    limiter.take("b");
    now = 500;
    limiter.take("a");
    assert.throws(() => limiter.take("a"));
    now = 100_000;
    limiter.sweep();
    assert.equal(limiter.size, 0, "refilled buckets are dropped");
  });
  it("lends a share of a full bucket, one token of a nearly empty one, never more than it holds", () => {
    const limiter = new RateLimiter({ ratePerSec: 10, burst: 100, now: () => 0 });
    assert.equal(limiter.takeShare("a", 1 / 4, 1000), 25, "a quarter of 100");
    assert.equal(limiter.takeShare("a", 1 / 4, 10), 10, "capped at max");
    let taken = 25 + 10;
    while (taken < 100) taken += limiter.takeShare("a", 1 / 4, 1000);
    assert.equal(taken, 100, "exactly the bucket, in shares that shrink to 1");
    assert.throws(() => limiter.takeShare("a", 1 / 4, 1000), { code: "too_many_requests" });
  });
  it("keeps at most maxKeys buckets", () => {
    const limiter = new RateLimiter({ ratePerSec: 1, burst: 1, maxKeys: 100, now: () => 0 });
    for (let i = 0; i < 1000; i++) limiter.take(`k${i}`);
    assert.ok(limiter.size <= 100);
  });
});

describe("cookies", () => {
  it("reads one cookie among others and writes HttpOnly ones", () => {
    assert.equal(readCookie("a=1; heraldAuthorization=t.o.k; b=2", "heraldAuthorization"), "t.o.k");
    assert.equal(readCookie("xheraldAuthorization=1", "heraldAuthorization"), undefined);
    assert.equal(readCookie(undefined, "a"), undefined);
    assert.equal(
      serializeCookie("c", "v", { sameSite: "None", secure: false, maxAgeSec: 10 }),
      "c=v; Path=/; HttpOnly; SameSite=None; Secure; Max-Age=10",
    );
  });
});

describe("auth settings", () => {
  it("refuses two key sources, bad booleans and bad SameSite values", () => {
    assert.throws(
      () => loadConfig({}, { HERALD_JWT_SECRET: "s", HERALD_JWKS_URL: "https://x/jwks" }),
      ConfigError,
    );
    assert.throws(() => loadConfig({}, { HERALD_ALLOW_ANONYMOUS_PUBLISH: "yes" }), /true or false/);
    assert.throws(() => loadConfig({}, { HERALD_COOKIE_SAMESITE: "strictest" }), /Strict, Lax or None/);
    assert.throws(() => loadConfig({}, { HERALD_JWKS_URL: "ftp://x" }), /http/);
    const config = loadConfig({}, { HERALD_ALLOW_ANONYMOUS_PUBLISH: "true", HERALD_COOKIE_SAMESITE: "lax" });
    assert.equal(config.allowAnonymousPublish, true);
    assert.equal(config.cookieSameSite, "Lax");
    assert.equal(config.allowAnonymousSubscribe, true, "anonymous subscribers are on by default");
    assert.equal(loadConfig({}, {}).allowAnonymousPublish, false, "anonymous publishing is off by default");
  });
  it("does not start with a public key that is not one", async () => {
    const config = defaultsWith({
      port: 0,
      host: "127.0.0.1",
      logLevel: "silent",
      jwtPublicKey: "/nonexistent/key.pem",
    });
    await assert.rejects(startHerald(config), /neither PEM text nor a readable file/);
  });
});
