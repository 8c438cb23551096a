import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair } from "jose";
import { defaultsWith, type HeraldConfig } from "../../packages/herald/src/config/settings.ts";
import { startHerald } from "../../packages/herald/src/herald.ts";
import { createLogger } from "../../packages/herald/src/ops/logger.ts";
import { logLines } from "../helpers/logs.ts";
import { runUntilExit } from "../helpers/start-failure.ts";

/** Resolves with the reason startHerald refused to start (fails the test if it started). */
async function refusedStart(overrides: Partial<HeraldConfig>): Promise<string> {
  const config = defaultsWith({ port: 0, host: "127.0.0.1", logLevel: "silent", workers: 1, ...overrides });
  let herald: Awaited<ReturnType<typeof startHerald>> | undefined;
  try {
    herald = await startHerald(config, { log: createLogger("silent") });
  } catch (error) {
    return (error as Error).message;
  }
  await herald.close();
  return assert.fail(`Herald started with ${JSON.stringify(overrides).slice(0, 200)}`);
}

describe("a key that does not fit its algorithm: Herald refuses to start, naming the setting", () => {
  let rsaPublic: string;
  let rsaPrivate: string;
  let ecPublic: string;
  let rsaJwk: string;
  let dir: string;
  before(async () => {
    const rsa = await generateKeyPair("RS256", { extractable: true });
    const ec = await generateKeyPair("ES256", { extractable: true });
    rsaPublic = await exportSPKI(rsa.publicKey);
    rsaPrivate = await exportPKCS8(rsa.privateKey);
    ecPublic = await exportSPKI(ec.publicKey);
    rsaJwk = JSON.stringify(await exportJWK(rsa.publicKey));
    dir = mkdtempSync(join(tmpdir(), "herald-keys-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("MERCURE_JWT_KEY holding a PEM public key with the default HMAC algorithm (key confusion)", async () => {
    const message = await refusedStart({ mercureJwtKey: rsaPublic });
    assert.match(message, /^MERCURE_JWT_KEY is a PEM public key \(RS256\), but its algorithm is HS256/);
    assert.match(message, /Set MERCURE_JWT_ALG=RS256/);
    // one-line PEM (literal \n), as in an environment variable
    const oneLine = await refusedStart({ mercureJwtKey: ecPublic.replace(/\n/g, "\\n") });
    assert.match(oneLine, /^MERCURE_JWT_KEY is a PEM public key \(ES256\)/);
    assert.match(oneLine, /Set MERCURE_JWT_ALG=ES256/);
  });

  it("Mercure's publisher and subscriber keys: PEM or JWK text with HS*, a wrong key with RS/ES", async () => {
    assert.match(
      await refusedStart({ mercurePublisherJwtKey: rsaPublic, mercurePublisherJwtAlg: "HS512" }),
      /^MERCURE_PUBLISHER_JWT_KEY is a PEM public key \(RS256\), but its algorithm is HS512 \(MERCURE_PUBLISHER_JWT_ALG/,
    );
    assert.match(
      await refusedStart({ mercureSubscriberJwtKey: rsaJwk }),
      /^MERCURE_SUBSCRIBER_JWT_KEY is a JWK \(JSON Web Key\), but its algorithm is HS256 \(MERCURE_JWT_ALG/,
    );
    assert.match(
      await refusedStart({ mercureJwtKey: rsaPrivate, mercureJwtAlg: "HS256" }),
      /^MERCURE_JWT_KEY is a PEM private key/,
    );
    assert.match(
      await refusedStart({ mercurePublisherJwtKey: "a-shared-secret", mercurePublisherJwtAlg: "RS256" }),
      /^MERCURE_PUBLISHER_JWT_KEY: the public key is not a PEM public key or certificate.*set MERCURE_PUBLISHER_JWT_ALG to HS256/,
    );
    assert.match(
      await refusedStart({ mercureJwtKey: ecPublic, mercureJwtAlg: "RS256" }),
      /^MERCURE_JWT_KEY: this is a ES256 public key; it cannot verify RS256 tokens \(MERCURE_JWT_ALG\): set MERCURE_JWT_ALG=ES256/,
    );
    assert.match(
      await refusedStart({ mercureJwtKey: rsaPrivate, mercureJwtAlg: "RS256" }),
      /^MERCURE_JWT_KEY: this is a private key; give the public key instead/,
    );
  });

  it("HERALD_JWT_SECRET holding a PEM block or a JWK; HERALD_JWT_PUBLIC_KEY holding a private key or other text", async () => {
    assert.match(
      await refusedStart({ jwtSecret: rsaPublic }),
      /^HERALD_JWT_SECRET is a PEM public key \(RS256\), but it takes an HS256 shared secret.*HERALD_JWT_PUBLIC_KEY/,
    );
    assert.match(await refusedStart({ jwtSecret: rsaJwk }), /^HERALD_JWT_SECRET is a JWK \(JSON Web Key\)/);
    assert.match(
      await refusedStart({ jwtSecret: JSON.stringify({ keys: [JSON.parse(rsaJwk)] }) }),
      /^HERALD_JWT_SECRET is a JWKS/,
    );
    assert.match(
      await refusedStart({ jwtPublicKey: rsaPrivate }),
      /^HERALD_JWT_PUBLIC_KEY: this is a private key; give the public key instead/,
    );
    assert.match(
      await refusedStart({ jwtPublicKey: "just-a-secret" }),
      /^HERALD_JWT_PUBLIC_KEY is neither PEM text nor a readable file/,
    );
    const file = join(dir, "not-a-key.pem");
    writeFileSync(file, "hello\n");
    assert.match(
      await refusedStart({ jwtPublicKey: file }),
      /^HERALD_JWT_PUBLIC_KEY: the public key is not a PEM public key or certificate/,
    );
  });

  it("public key material in other spellings is no shared secret either: base64 DER, OpenSSH, a URL", async () => {
    // the PEM body alone (its BEGIN/END lines stripped, as a one-line environment variable): the
    // same public key, and tokens HS256-signed with this text by anyone would be accepted
    const der = rsaPublic.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
    assert.match(
      await refusedStart({ mercureJwtKey: der }),
      /^MERCURE_JWT_KEY is a public key in base64 DER \(RS256\), but its algorithm is HS256.*Set MERCURE_JWT_ALG=RS256/,
    );
    const base64url = Buffer.from(der, "base64").toString("base64url");
    assert.match(
      await refusedStart({ mercurePublisherJwtKey: base64url }),
      /^MERCURE_PUBLISHER_JWT_KEY is a public key in base64 DER \(RS256\)/,
    );
    assert.match(
      await refusedStart({ jwtSecret: der }),
      /^HERALD_JWT_SECRET is a public key in base64 DER \(RS256\)/,
    );
    const ed = (await generateKeyPair("EdDSA", { extractable: true })).publicKey;
    const raw = Buffer.from((await exportJWK(ed)).x as string, "base64url");
    const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
    const openssh = `ssh-ed25519 ${Buffer.concat([field(Buffer.from("ssh-ed25519")), field(raw)]).toString("base64")} me@host`;
    assert.match(
      await refusedStart({ mercureSubscriberJwtKey: openssh }),
      /^MERCURE_SUBSCRIBER_JWT_KEY is an OpenSSH public key/,
    );
    assert.match(await refusedStart({ jwtSecret: openssh }), /^HERALD_JWT_SECRET is an OpenSSH public key/);
    assert.match(
      await refusedStart({ mercureJwtKey: "https://issuer.example/.well-known/jwks.json" }),
      /^MERCURE_JWT_KEY is a URL.*MERCURE_JWKS/,
    );
  });

  it("the herald command exits non-zero with the reason, with one process and with --workers", async () => {
    for (const workers of ["1", "2"]) {
      const { code, output } = await runUntilExit(["--port", "0"], {
        HERALD_WORKERS: workers,
        MERCURE_JWT_KEY: rsaPublic,
      });
      assert.notEqual(code, 0, `workers ${workers}: ${output}`);
      assert.notEqual(code, "running", `workers ${workers}: still running: ${output}`);
      const fatal = logLines(output).filter((l) => l.level === "fatal");
      assert.match(fatal[0]?.msg ?? "", /^MERCURE_JWT_KEY is a PEM public key \(RS256\)/, output);
      assert.doesNotMatch(output, /Herald listening/, "nothing started");
    }
  });
});
