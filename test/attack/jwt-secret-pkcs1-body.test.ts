import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, it } from "node:test";
import { loadConfig } from "../../packages/herald/src/config/load.ts";

/**
 * Commit 0e70780: "HERALD_JWT_SECRET holding key material (a PEM block, a JWK, base64 DER, an
 * OpenSSH key, a URL) is refused as a value at load" (config/kinds.ts `hmacSecret`: a public key
 * taken as a shared secret lets anyone sign accepted tokens, key confusion). A PEM body pasted
 * without its lines is caught for SPKI ("BEGIN PUBLIC KEY") only: the base64 DER of an RSA public
 * key in PKCS#1 form ("BEGIN RSA PUBLIC KEY", what `openssl rsa -RSAPublicKey_out` and
 * `ssh-keygen -e -m PEM` write) is taken as a secret, and Herald starts with a public HMAC key.
 */
describe("attack: HERALD_JWT_SECRET holding an RSA public key body in PKCS#1 form", () => {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const base64 = (der: string | Buffer) => Buffer.from(der).toString("base64");

  it("is refused at load, as its SPKI form is", () => {
    const spki = base64(publicKey.export({ type: "spki", format: "der" }));
    assert.throws(() => loadConfig({}, { HERALD_JWT_SECRET: spki }), /public key/); // the control
    const pkcs1 = base64(publicKey.export({ type: "pkcs1", format: "der" }));
    assert.throws(
      () => loadConfig({}, { HERALD_JWT_SECRET: pkcs1 }),
      /public key/,
      "a PKCS#1 RSA public key body is accepted as an HS256 secret",
    );
  });
});
