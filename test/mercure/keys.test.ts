import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { defaultsWith } from "../../packages/herald/src/config/settings.ts";
import { mercureVerifiers } from "../../packages/herald/src/mercure/keys.ts";
import { HUB, mercurePublish, startMercureHerald } from "./helpers.ts";
import { detail, ISSUER, resourceOf, startModernHerald } from "./v1-helpers.ts";

const config = (overrides: Parameters<typeof defaultsWith>[0]) =>
  defaultsWith({ logLevel: "silent", ...overrides });

describe("Mercure keys (MERCURE_*_JWT_KEY / _ALG)", () => {
  it("verifies HS256 by default and HS512 when asked", async () => {
    const secret = "a-secret-a-secret-a-secret-a-secret!";
    const hs512 = await mercureVerifiers(config({ mercureJwtKey: secret, mercureJwtAlg: "HS512" }));
    const token = await new SignJWT({ mercure: { publish: ["*"] } })
      .setProtectedHeader({ alg: "HS512" })
      .sign(new TextEncoder().encode(secret));
    assert.deepEqual((await hs512.publisher!.verify(token)).mercure, { publish: ["*"] });
    const hs256 = await mercureVerifiers(config({ mercureJwtKey: secret }));
    await assert.rejects(hs256.subscriber!.verify(token), /algorithm HS512 is not accepted/);
  });

  it("verifies RS256 and ES256 tokens with PEM public keys, and publishes with them", async () => {
    for (const alg of ["RS256", "ES256"] as const) {
      const pair = await generateKeyPair(alg, { extractable: true });
      const pem = await exportSPKI(pair.publicKey);
      const token = await new SignJWT({ mercure: { publish: ["keys"] } })
        .setProtectedHeader({ alg })
        .sign(pair.privateKey);
      // One-line PEM, as environment variables often carry it.
      const herald = await startMercureHerald({
        mercureJwtKey: "",
        mercurePublisherJwtKey: pem.replace(/\n/g, "\\n"),
        mercurePublisherJwtAlg: alg,
      });
      try {
        const answer = await mercurePublish(
          herald.url,
          [
            ["topic", "keys"],
            ["data", alg],
          ],
          {
            authorization: `Bearer ${token}`,
          },
        );
        assert.equal(answer.status, 200, `${alg}: ${answer.text}`);
        const other = await fetch(`${herald.url}${HUB}?topic=keys`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(
          other.status,
          200,
          "no subscriber key: tokens are not read, the subscriber is anonymous",
        );
        await other.body?.cancel();
      } finally {
        await herald.close();
      }
    }
  });

  it("verifies 1.0 access tokens signed with EdDSA, PS256 and RS512, the Mercure hub's other algorithms", async () => {
    // the spec's allowlist "SHOULD include at minimum EdDSA, ES256, and RS256"; the Mercure hub
    // accepts EdDSA, ES*, RS* and PS* (MERCURE_*_JWT_ALG)
    for (const alg of ["EdDSA", "PS256", "RS512"] as const) {
      const pair = await generateKeyPair(alg, { extractable: true });
      const herald = await startModernHerald({
        mercureJwtKey: "",
        mercurePublisherJwtKey: await exportSPKI(pair.publicKey),
        mercurePublisherJwtAlg: alg === "EdDSA" ? "eddsa" : alg,
      });
      try {
        const token = await new SignJWT({
          authorization_details: [detail(["publish"], [{ match: "*" }])],
        })
          .setProtectedHeader({ alg, typ: "at+jwt" })
          .setIssuer(ISSUER)
          .setAudience(resourceOf(herald.url))
          .setExpirationTime("1h")
          .sign(pair.privateKey);
        const answer = await mercurePublish(herald.url, [["topic", "keys"]], {
          authorization: `Bearer ${token}`,
        });
        assert.equal(answer.status, 200, `${alg}: ${answer.text}`);
      } finally {
        await herald.close();
      }
    }
    const ed = await exportSPKI((await generateKeyPair("EdDSA", { extractable: true })).publicKey);
    await assert.rejects(
      mercureVerifiers(config({ mercureJwtKey: ed, mercureJwtAlg: "RS256" })),
      /MERCURE_JWT_KEY: this is a EdDSA public key; it cannot verify RS256 tokens/,
    );
    const rsa = await exportSPKI((await generateKeyPair("RS256", { extractable: true })).publicKey);
    await assert.rejects(
      mercureVerifiers(config({ mercureJwtKey: rsa, mercureJwtAlg: "ES256" })),
      /MERCURE_JWT_KEY: this is a RS256 public key; it cannot verify ES256 tokens/,
    );
  });

  it("refuses at start a key that does not fit its algorithm, naming the setting", async () => {
    const pair = await generateKeyPair("ES256", { extractable: true });
    const pem = await exportSPKI(pair.publicKey);
    await assert.rejects(
      mercureVerifiers(config({ mercureSubscriberJwtKey: pem, mercureSubscriberJwtAlg: "RS256" })),
      /MERCURE_SUBSCRIBER_JWT_KEY: this is a ES256 public key; it cannot verify RS256 tokens/,
    );
    await assert.rejects(
      mercureVerifiers(config({ mercureJwtKey: "x", mercureJwtAlg: "none" })),
      /invalid MERCURE_JWT_ALG: "none"; it accepts one of HS256/,
    );
    await assert.rejects(
      mercureVerifiers(config({ mercurePublisherJwtKey: "not a pem", mercurePublisherJwtAlg: "RS256" })),
      /MERCURE_PUBLISHER_JWT_KEY: the public key is not a PEM/,
    );
  });
});
