import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { SignJWT } from "jose";
import { mintHs256 } from "../../packages/herald/src/auth/index.ts";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, RawStream, startTestHerald } from "../helpers/herald.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";

const ISS = "https://auth.example";
const AUD = "herald-test";
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function post(herald: Herald, path: string, body: unknown, headers: Record<string, string> = {}) {
  return httpRequest(`${herald.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

describe("publishing needs a token (safe by default)", () => {
  let herald: Herald;
  const claims = { iss: ISS, aud: AUD };
  const ok = (rights: { publish?: string[]; subscribe?: string[] }, expiresInSec = 60) =>
    heraldToken(rights, { claims, expiresInSec });
  before(async () => {
    herald = await startTestHerald({
      allowAnonymousPublish: false,
      jwtSecret: TEST_SECRET,
      jwtIssuer: ISS,
      jwtAudience: AUD,
    });
  });
  after(() => herald.close());

  it("publishes with a token whose claim matches every topic", async () => {
    const token = await ok({ publish: ["news", "orders/*"] });
    const res = await post(herald, "/publish", { topic: ["news", "orders/1"], data: "x" }, bearer(token));
    assert.equal(res.status, 200, res.text);
  });

  it("refuses a publish without a token: 401 and a bare Bearer challenge", async () => {
    const res = await post(herald, "/publish", { topic: "news", data: "x" });
    assert.equal(res.status, 401);
    assert.equal(res.headers["www-authenticate"], 'Bearer realm="herald"');
    assert.match((res.body as { message: string }).message, /Authorization: Bearer/);
  });

  const refusals: [string, () => Promise<string>, string][] = [
    [
      "malformed",
      async () => "abc",
      "token is malformed: expected a compact JWS (three base64url parts joined by dots)",
    ],
    ["expired", () => ok({ publish: ["*"] }, -10), "token expired"],
    [
      "not yet valid",
      () =>
        new SignJWT({ ...claims, herald: { publish: ["*"] } })
          .setProtectedHeader({ alg: "HS256" })
          .setNotBefore("10m")
          .sign(new TextEncoder().encode(TEST_SECRET)),
      "token not yet valid (nbf is in the future)",
    ],
    [
      "wrong key",
      () => mintHs256("some-other-secret-some-other-secret", { ...claims, herald: { publish: ["*"] } }),
      "bad signature: the token was not signed with this hub's key",
    ],
    [
      "alg none",
      async () => `${b64({ alg: "none", typ: "JWT" })}.${b64({ ...claims, herald: { publish: ["*"] } })}.`,
      "unsigned tokens (alg 'none') are refused",
    ],
    [
      "algorithm the key does not match",
      async () => {
        const { privateKey } = await import("jose").then((j) => j.generateKeyPair("ES256"));
        return new SignJWT(claims).setProtectedHeader({ alg: "ES256" }).sign(privateKey);
      },
      "algorithm ES256 is not accepted; this hub's HS256 secret accepts HS256",
    ],
    [
      "wrong audience",
      () => mintHs256(TEST_SECRET, { iss: ISS, aud: "someone-else" }),
      `wrong audience: expected '${AUD}'`,
    ],
    [
      "wrong issuer",
      () => mintHs256(TEST_SECRET, { iss: "https://evil.example", aud: AUD }),
      `wrong issuer: expected '${ISS}'`,
    ],
  ];
  for (const [name, make, description] of refusals) {
    it(`refuses a ${name} token: 401 invalid_token saying why`, async () => {
      const res = await post(herald, "/publish", { topic: "news", data: "x" }, bearer(await make()));
      assert.equal(res.status, 401, res.text);
      assert.equal(
        res.headers["www-authenticate"],
        `Bearer realm="herald", error="invalid_token", error_description="${description}"`,
      );
      assert.equal((res.body as { error: string }).error, "unauthorized");
    });
  }

  it("refuses another Authorization scheme with 401", async () => {
    const res = await post(
      herald,
      "/publish",
      { topic: "news", data: "x" },
      { authorization: "Basic dXNlcjpwYXNz" },
    );
    assert.equal(res.status, 401);
    assert.match(res.headers["www-authenticate"] as string, /error="invalid_token".*Bearer <token>/);
  });

  it("answers 403 insufficient_scope when one topic of the event is not allowed", async () => {
    const token = await ok({ publish: ["orders/*"] });
    const res = await post(herald, "/publish", { topic: ["orders/1", "payroll"], data: "x" }, bearer(token));
    assert.equal(res.status, 403);
    assert.match(
      res.headers["www-authenticate"] as string,
      /^Bearer realm="herald", error="insufficient_scope"/,
    );
    assert.match((res.body as { message: string }).message, /may not publish to "payroll"/);
    const none = await ok({ subscribe: ["*"] });
    assert.equal(
      (await post(herald, "/publish", { topic: "orders/1", data: "x" }, bearer(none))).status,
      403,
    );
  });

  it("guards the seed's POST /broadcast the same way, in the seed's JSON shape", async () => {
    const missing = await post(herald, "/broadcast", { message: "hi" });
    assert.equal(missing.status, 401);
    assert.equal(missing.headers["www-authenticate"], 'Bearer realm="herald"');
    assert.equal((missing.body as { success: boolean; code: number }).success, false);
    assert.equal((missing.body as { code: number }).code, 401);
    const expired = await post(
      herald,
      "/broadcast",
      { message: "hi" },
      bearer(await ok({ publish: ["*"] }, -5)),
    );
    assert.equal(expired.status, 401);
    assert.match(expired.headers["www-authenticate"] as string, /error_description="token expired"/);
    assert.deepEqual(expired.body, { success: false, code: 401, message: "token expired" });
    const forbidden = await post(
      herald,
      "/broadcast",
      { message: "hi" },
      bearer(await ok({ publish: ["news"] })),
    );
    assert.equal(forbidden.status, 403);
    assert.equal((forbidden.body as { code: number }).code, 403);
    const allowed = await post(
      herald,
      "/broadcast",
      { message: "hi" },
      bearer(await ok({ publish: ["broadcast"] })),
    );
    assert.deepEqual(allowed.body, { success: true, code: 200 });
  });

  it("refuses a stream with a bad token even though anonymous subscribers are allowed", async () => {
    const res = await httpRequest(`${herald.url}/events?topic=news`, { headers: bearer(await ok({}, -5)) });
    assert.equal(res.status, 401);
    assert.match(res.headers["www-authenticate"] as string, /error_description="token expired"/);
    assert.equal(herald.streamLimits.open, 0, "a refused stream holds no slot");
  });
});

describe("subscriber tokens: header, cookie, expiry", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({ jwtSecret: TEST_SECRET, allowAnonymousSubscribe: false });
  });
  after(() => herald.close());

  it("refuses anonymous streams when HERALD_ALLOW_ANONYMOUS_SUBSCRIBE=false", async () => {
    const res = await httpRequest(`${herald.url}/events?topic=news`);
    assert.equal(res.status, 401);
    assert.equal(res.headers["www-authenticate"], 'Bearer realm="herald"');
    const seed = await httpRequest(`${herald.url}/stream`);
    assert.equal(seed.status, 401);
  });

  it("sets an HttpOnly cookie from a token, and streams read it", async () => {
    const token = await heraldToken({ subscribe: ["users/7"] }, { expiresInSec: 600 });
    const res = await httpRequest(`${herald.url}/auth/cookie`, {
      method: "POST",
      headers: { ...bearer(token), "x-forwarded-proto": "https" },
    });
    assert.equal(res.status, 204);
    const cookie = res.headers["set-cookie"] as string;
    assert.match(
      cookie,
      new RegExp(
        `^heraldAuthorization=${token.replace(/\./g, "\\.")}; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=(59\\d|600)$`,
      ),
    );
    const plain = await httpRequest(`${herald.url}/auth/cookie`, { method: "POST", headers: bearer(token) });
    assert.doesNotMatch(plain.headers["set-cookie"] as string, /Secure/, "no Secure over plain HTTP");
    const bad = await httpRequest(`${herald.url}/auth/cookie`, {
      method: "POST",
      headers: bearer(`${token}x`),
    });
    assert.equal(bad.status, 401);
    assert.equal(bad.headers["set-cookie"], undefined);

    const stream = new RawStream(`${herald.url}/events?topic=users/7`, {
      cookie: `theme=dark; heraldAuthorization=${token}`,
    });
    await stream.opened();
    await post(herald, "/publish", { topic: "users/7", data: "secret", id: "u7-1", private: true });
    await stream.until(() => stream.text.includes("data: secret"));
    stream.close();
    const cleared = await httpRequest(`${herald.url}/auth/cookie`, { method: "DELETE" });
    assert.match(cleared.headers["set-cookie"] as string, /^heraldAuthorization=; .*Max-Age=0$/);
  });

  it("closes the stream when the token expires, and refuses the same token afterwards", async () => {
    const token = await mintHs256(TEST_SECRET, {
      herald: { subscribe: ["*"] },
      exp: Math.floor(Date.now() / 1000) + 2,
    });
    const stream = new RawStream(`${herald.url}/events?topic=news`, bearer(token));
    await stream.opened();
    assert.equal(herald.streamLimits.open, 1);
    await stream.until(() => stream.closed, 5000);
    assert.match(stream.text, /: token expired\n\n$/);
    const again = await httpRequest(`${herald.url}/events?topic=news`, { headers: bearer(token) });
    assert.equal(again.status, 401);
    assert.match(again.headers["www-authenticate"] as string, /error_description="token expired"/);
    assert.equal(herald.streamLimits.open, 0);
    assert.equal(herald.streamLimits.trackedIps, 0);
    assert.equal(herald.hub.subscriberCount, 0);
  });
});

describe("expiry timers", () => {
  it("leaves no timer behind when streams with tokens close", async () => {
    const herald = await startTestHerald({ jwtSecret: TEST_SECRET });
    try {
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
      const before = timers();
      const token = await heraldToken({ subscribe: ["*"] }, { expiresInSec: 3600 });
      const streams = Array.from(
        { length: 50 },
        () => new RawStream(`${herald.url}/events?topic=a`, bearer(token)),
      );
      for (const stream of streams) await stream.opened();
      assert.ok(timers() >= before + 50, "one expiry timer per stream with a token");
      for (const stream of streams) stream.close();
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (herald.streamLimits.open > 0) return;
          clearInterval(poll);
          resolve();
        }, 10);
      });
      assert.ok(timers() <= before + 1, `timers left: ${timers() - before}`);
      assert.equal(herald.hub.subscriberCount, 0);
      assert.equal(herald.streamLimits.trackedIps, 0);
    } finally {
      await herald.close();
    }
  });
});

describe("no key configured", () => {
  it("makes a random secret and a dev token that may publish anywhere", async () => {
    const herald = await startTestHerald({ allowAnonymousPublish: false });
    try {
      assert.ok(herald.devToken !== undefined);
      const res = await post(herald, "/publish", { topic: "any/topic", data: "x" }, bearer(herald.devToken));
      assert.equal(res.status, 200);
      const anonymous = await post(herald, "/publish", { topic: "any/topic", data: "x" });
      assert.equal(anonymous.status, 401);
    } finally {
      await herald.close();
    }
  });
});
