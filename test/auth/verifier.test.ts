import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from "jose";
import { createJwtAuthorizer, mintHs256 } from "../../packages/herald/src/auth/index.ts";
import { AuthError } from "../../packages/herald/src/core/auth.ts";
import { HeraldError } from "../../packages/herald/src/core/errors.ts";

const SECRET = "test-secret-test-secret-test-secret!";
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

async function refusal(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AuthError, `expected AuthError, got ${String(error)}`);
    return error;
  }
  assert.fail("the token was accepted");
}

describe("JWT verification (HS256)", () => {
  const authorizer = createJwtAuthorizer({
    key: { kind: "secret", secret: SECRET },
    issuer: "https://issuer.example",
    audience: "herald",
  });
  const good = { iss: "https://issuer.example", aud: "herald" };

  it("accepts a good token and reads the herald claim", async () => {
    const token = await mintHs256(
      SECRET,
      { ...good, herald: { publish: ["news", "orders/*"], subscribe: ["*"] } },
      {
        expiresInSec: 60,
        subject: "alice",
      },
    );
    const principal = await (await authorizer).authenticate(token);
    assert.equal(principal.id, "sub:alice");
    assert.deepEqual(principal.publish, [
      { kind: "exact", topic: "news" },
      { kind: "prefix", prefix: "orders/" },
    ]);
    assert.deepEqual(principal.subscribe, [{ kind: "all" }]);
    assert.ok(principal.expiresAt !== undefined && principal.expiresAt > Date.now());
  });

  const cases: [string, () => Promise<string>, RegExp][] = [
    ["malformed", async () => "not-a-jwt", /malformed/],
    ["expired", () => mintHs256(SECRET, good, { expiresInSec: -60 }), /token expired/],
    [
      "not yet valid",
      () =>
        new SignJWT(good)
          .setProtectedHeader({ alg: "HS256" })
          .setNotBefore("1h")
          .sign(new TextEncoder().encode(SECRET)),
      /not yet valid/,
    ],
    ["wrong key", () => mintHs256("another-secret-another-secret-123", good), /bad signature/],
    ["alg none", async () => `${b64({ alg: "none" })}.${b64(good)}.`, /alg "none"/],
    ["wrong audience", () => mintHs256(SECRET, { ...good, aud: "other" }), /wrong audience/],
    ["wrong issuer", () => mintHs256(SECRET, { ...good, iss: "https://evil.example" }), /wrong issuer/],
    [
      "bad herald claim",
      () => mintHs256(SECRET, { ...good, herald: { publish: "news" } }),
      /herald\.publish/,
    ],
  ];
  for (const [name, make, reason] of cases) {
    it(`refuses a token: ${name}`, async () => {
      const error = await refusal((await authorizer).authenticate(await make()));
      assert.equal(error.code, "unauthorized");
      assert.match(error.description, reason);
      assert.match(
        error.challenge,
        /^Bearer realm="herald", error="invalid_token", error_description="[^"]+"$/,
      );
    });
  }
});

describe("verified-token cache (static keys)", () => {
  it("serves a token verified once until its exp, then refuses it as expired", async () => {
    let offsetMs = 0;
    const authorizer = await createJwtAuthorizer({
      key: { kind: "secret", secret: "cache-secret-cache-secret-cache-1" },
      now: () => Date.now() + offsetMs,
    });
    const token = await mintHs256(
      "cache-secret-cache-secret-cache-1",
      { herald: { publish: ["a"] } },
      { expiresInSec: 5 },
    );
    const first = await authorizer.authenticate(token);
    assert.equal(await authorizer.authenticate(token), first);
    offsetMs = 10_000; // past exp (5 s), well within the cache's own 60 s bound
    await assert.rejects(
      authorizer.authenticate(token),
      (e: unknown) => e instanceof AuthError && /expired/.test(e.description),
    );
  });

  it("never caches a refusal", async () => {
    const authorizer = await createJwtAuthorizer({
      key: { kind: "secret", secret: "right-secret-right-secret-right-1" },
    });
    const wrong = await mintHs256("wrong-secret-wrong-secret-wrong-1", { herald: { publish: ["a"] } });
    for (let i = 0; i < 2; i++) await assert.rejects(authorizer.authenticate(wrong), AuthError);
  });
});

describe("JWT verification (PEM public keys)", () => {
  it("pins RS256 to an RSA key: an HS256 token signed with the public key text is refused", async () => {
    const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
    const pem = await exportSPKI(publicKey);
    const authorizer = await createJwtAuthorizer({ key: { kind: "pem", pem } });
    const ok = await new SignJWT({ herald: { publish: ["*"] } })
      .setProtectedHeader({ alg: "RS256" })
      .sign(privateKey);
    assert.equal((await authorizer.authenticate(ok)).publish.length, 1);
    const confused = await mintHs256(pem, {});
    const error = await refusal(authorizer.authenticate(confused));
    assert.match(error.description, /algorithm HS256 is not accepted.*RS256/);
  });

  it("accepts ES256 with an EC P-256 key and refuses RS256 tokens", async () => {
    const ec = await generateKeyPair("ES256", { extractable: true });
    const rsa = await generateKeyPair("RS256");
    const authorizer = await createJwtAuthorizer({
      key: { kind: "pem", pem: await exportSPKI(ec.publicKey) },
    });
    const ok = await new SignJWT({}).setProtectedHeader({ alg: "ES256" }).sign(ec.privateKey);
    await authorizer.authenticate(ok);
    const other = await new SignJWT({}).setProtectedHeader({ alg: "RS256" }).sign(rsa.privateKey);
    assert.match((await refusal(authorizer.authenticate(other))).description, /RS256 is not accepted/);
  });

  it("refuses key material that is not a public key", async () => {
    await assert.rejects(createJwtAuthorizer({ key: { kind: "pem", pem: "hello" } }), /not a PEM public key/);
  });
});

describe("JWKS with rotation", () => {
  let server: Server;
  let keys: JWK[] = [];
  let fetches = 0;
  let url = "";
  before(async () => {
    server = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function keyPair(kid: string) {
    const pair = await generateKeyPair("ES256", { extractable: true });
    const jwk = { ...(await exportJWK(pair.publicKey)), kid, alg: "ES256", use: "sig" };
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid }).sign(pair.privateKey);
    return { jwk, sign };
  }

  it("caches keys, fetches again for an unknown kid, and refuses retired keys", async () => {
    const first = await keyPair("k1");
    const second = await keyPair("k2");
    keys = [first.jwk];
    const authorizer = await createJwtAuthorizer({
      key: { kind: "jwks", url, cooldownMs: 0, cacheMaxAgeMs: 60_000 },
    });
    await authorizer.authenticate(await first.sign({ sub: "a" }));
    await authorizer.authenticate(await first.sign({ sub: "b" }));
    assert.equal(fetches, 1, "the second token is verified from the cache");
    keys = [first.jwk, second.jwk]; // rotation: publish the new key, then sign with it
    await authorizer.authenticate(await second.sign({ sub: "c" }));
    assert.equal(fetches, 2, "an unknown kid triggers one fetch");
    keys = [second.jwk]; // the old key is retired
    const cooled = await createJwtAuthorizer({ key: { kind: "jwks", url, cooldownMs: 0, cacheMaxAgeMs: 0 } });
    const error = await refusal(cooled.authenticate(await first.sign({})));
    assert.match(error.description, /no key of the JWKS/);
  });

  it("answers unavailable (not 401) when the JWKS cannot be fetched", async () => {
    const dead = await createJwtAuthorizer({ key: { kind: "jwks", url: "http://127.0.0.1:1/jwks.json" } });
    const { sign } = await keyPair("k9");
    await assert.rejects(dead.authenticate(await sign({})), (error: unknown) => {
      assert.ok(error instanceof HeraldError && error.code === "unavailable");
      return true;
    });
  });
});
