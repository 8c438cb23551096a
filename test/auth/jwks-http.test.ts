import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, RawStream, startTestHerald } from "../helpers/herald.ts";
import { bearer } from "../helpers/tokens.ts";

async function signer(kid: string) {
  const pair = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(pair.publicKey)), kid, alg: "RS256", use: "sig" };
  const sign = (rights: Record<string, string[]>) =>
    new SignJWT({ herald: rights })
      .setProtectedHeader({ alg: "RS256", kid })
      .setExpirationTime("5m")
      .sign(pair.privateKey);
  return { jwk, sign };
}

describe("HERALD_JWKS_URL: keys from a JWKS, rotated without a restart", () => {
  let jwksServer: Server;
  let herald: Herald;
  let keys: JWK[] = [];
  let up = true;
  before(async () => {
    // the JWKS sits behind Basic auth, given as user:password@ in the URL (fetch refuses such a
    // URL: Herald sends them as an Authorization header)
    const basic = `Basic ${Buffer.from("jwks:s:cret").toString("base64")}`;
    jwksServer = createServer((req, res) => {
      if (req.headers.authorization !== basic) res.writeHead(401).end();
      else if (!up) res.writeHead(500).end();
      else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
    const port = (jwksServer.address() as AddressInfo).port;
    herald = await startTestHerald({
      allowAnonymousPublish: false,
      jwksUrl: `http://jwks:s%3Acret@127.0.0.1:${port}/.well-known/jwks.json`,
      jwksCacheMs: 0,
      jwksCooldownMs: 0,
    });
  });
  after(async () => {
    await herald.close();
    await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
  });

  const publishWith = async (token: string) =>
    httpRequest(`${herald.url}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer(token) },
      body: JSON.stringify({ topic: "news", data: "x" }),
    });

  it("accepts the current key, then the new one, and refuses the retired one", async () => {
    const old = await signer("2026-01");
    const next = await signer("2026-02");
    keys = [old.jwk];
    assert.equal((await publishWith(await old.sign({ publish: ["*"] }))).status, 200);
    keys = [old.jwk, next.jwk];
    assert.equal((await publishWith(await next.sign({ publish: ["*"] }))).status, 200);
    const stream = new RawStream(
      `${herald.url}/events?topic=news`,
      bearer(await next.sign({ subscribe: ["*"] })),
    );
    await stream.opened();
    stream.close();
    keys = [next.jwk];
    const retired = await publishWith(await old.sign({ publish: ["*"] }));
    assert.equal(retired.status, 401);
    assert.equal(
      retired.headers["www-authenticate"],
      `Bearer realm="herald", error="invalid_token", error_description="no key of the JWKS matches the token's kid and alg"`,
    );
  });

  it("answers 503 + Retry-After while the JWKS cannot be fetched", async () => {
    const key = await signer("2026-03");
    up = false;
    try {
      const res = await publishWith(await key.sign({ publish: ["*"] }));
      assert.equal(res.status, 503);
      assert.equal(res.headers["retry-after"], "5");
    } finally {
      up = true;
    }
  });
});
