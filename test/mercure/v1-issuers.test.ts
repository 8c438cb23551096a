import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { mercurePublish } from "./helpers.ts";
import { accessToken, detail, ISSUER, resourceOf, startModernHerald } from "./v1-helpers.ts";

/** An issuer with its ES256 key, served as a JWKS. */
async function issuer(kid: string) {
  const pair = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(pair.publicKey)), kid, alg: "ES256", use: "sig" };
  const sign = (iss: string, aud: string) =>
    new SignJWT({ authorization_details: [detail(["publish"], ["*"])] })
      .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid })
      .setIssuer(iss)
      .setAudience(aud)
      .setExpirationTime("5m")
      .sign(pair.privateKey);
  return { jwk, sign };
}

describe("Mercure 1.0: several trusted issuers (MERCURE_ISSUER, MERCURE_JWKS)", () => {
  let jwks: Server;
  let herald: Herald;
  let a: Awaited<ReturnType<typeof issuer>>;
  let b: Awaited<ReturnType<typeof issuer>>;
  before(async () => {
    a = await issuer("a");
    b = await issuer("b");
    jwks = createServer((req, res) => {
      const key = req.url === "/a.json" ? a.jwk : b.jwk;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [key] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
    const port = (jwks.address() as AddressInfo).port;
    herald = await startModernHerald({
      mercureJwks: [
        `https://a.example=http://127.0.0.1:${port}/a.json`,
        `https://b.example=http://127.0.0.1:${port}/b.json`,
      ],
    });
  });
  after(async () => {
    await herald.close();
    await new Promise((resolve) => jwks.close(resolve));
  });

  const publishWith = (token: string) =>
    mercurePublish(herald.url, [["topic", "t"]], { authorization: `Bearer ${token}` });

  it("verifies each issuer's tokens with its own keys, never another issuer's", async () => {
    const aud = resourceOf(herald.url);
    assert.equal((await publishWith(await a.sign("https://a.example", aud))).status, 200);
    assert.equal((await publishWith(await b.sign("https://b.example", aud))).status, 200);
    assert.equal((await publishWith(await accessToken(aud, [detail(["publish"], ["*"])]))).status, 200);
    // B's key claiming to be A: refused, though B's key is trusted (for B)
    const forged = await publishWith(await b.sign("https://a.example", aud));
    assert.equal(forged.status, 401);
    assert.match(forged.headers.get("www-authenticate") ?? "", /invalid_token/);
    // the shared secret of MERCURE_ISSUER does not verify A's tokens either
    const secretAsA = await publishWith(
      await accessToken(aud, [detail(["publish"], ["*"])], { issuer: "https://a.example" }),
    );
    assert.equal(secretAsA.status, 401);
    assert.notEqual(ISSUER, "https://a.example");
  });

  it("refuses to start on a malformed MERCURE_JWKS entry", async () => {
    await assert.rejects(startModernHerald({ mercureJwks: ["no-equals-sign"] }), /MERCURE_JWKS/);
  });
});
