import type { webcrypto } from "node:crypto";
import { createRemoteJWKSet, importSPKI, importX509, type JWTVerifyGetKey } from "jose";
import { endpointOf } from "../http/url-credentials.ts";
import { JWKS_ALGORITHMS } from "./algorithms.ts";
import { keyLike, publicKeyAlgorithm } from "./key-text.ts";

/**
 * Where verification keys come from. Exactly one source per verifier.
 * - `secret`: an HS256 shared secret (at least 32 bytes recommended);
 * - `pem`: an RSA or EC public key (SPKI `BEGIN PUBLIC KEY`) or an X.509 certificate;
 * - `jwks`: a JWKS URL, fetched lazily, cached for `cacheMaxAgeMs`, and fetched again (at most once
 *   per `cooldownMs`) when a token names a `kid` the cache does not hold: that is key rotation.
 */
export type KeySource =
  | { readonly kind: "secret"; readonly secret: string }
  | {
      readonly kind: "pem";
      readonly pem: string;
      /** The algorithm to verify with (default: the key's own, RS256 for RSA); must fit the key. */
      readonly alg?: string;
    }
  | {
      readonly kind: "jwks";
      readonly url: string;
      readonly cacheMaxAgeMs?: number;
      readonly cooldownMs?: number;
      readonly timeoutMs?: number;
    };

/**
 * A key ready for jose's `jwtVerify`, with the algorithms pinned to its type: a token signed with
 * any other `alg` (including `none`, or HS256 against an RSA key) is refused before any crypto.
 */
export interface VerificationKey {
  readonly key: Uint8Array | webcrypto.CryptoKey | JWTVerifyGetKey;
  readonly algorithms: readonly string[];
  /** For logs: "HS256 secret", "RS256 public key", "JWKS https://...". */
  readonly description: string;
}

/** Builds the verification key. Throws an Error saying what is wrong with the key material. */
export async function loadKey(source: KeySource): Promise<VerificationKey> {
  switch (source.kind) {
    case "secret": {
      if (source.secret.length === 0) throw new Error("the HS256 secret is empty");
      const notSecret = keyLike(source.secret);
      if (notSecret !== undefined) {
        throw new Error(
          `the HS256 secret is ${notSecret}: an HMAC key must be a shared secret (a public key is no secret: anyone could sign tokens with it)`,
        );
      }
      // Imported once: jose would otherwise import raw bytes on every verification (~2x slower).
      const key = await crypto.subtle.importKey(
        "raw",
        new TextEncoder().encode(source.secret),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["verify"],
      );
      return {
        key,
        algorithms: ["HS256"],
        description: "HS256 secret",
      };
    }
    case "pem":
      return loadPem(source.pem, source.alg);
    case "jwks": {
      let url: URL;
      try {
        url = new URL(source.url);
      } catch {
        throw new Error(`the JWKS URL ${JSON.stringify(source.url)} is not a URL`);
      }
      if (url.protocol !== "https:" && url.protocol !== "http:") {
        throw new Error(`the JWKS URL must be http(s), got ${url.protocol}`);
      }
      const endpoint = endpointOf(url.href); // user:password@ as Basic auth, never in a log
      const jwks = createRemoteJWKSet(new URL(endpoint.url), {
        cacheMaxAge: source.cacheMaxAgeMs ?? 600_000,
        cooldownDuration: source.cooldownMs ?? 30_000,
        timeoutDuration: source.timeoutMs ?? 5_000,
        ...(endpoint.authorization === undefined
          ? {}
          : { headers: { authorization: endpoint.authorization } }),
      });
      return { key: jwks, algorithms: JWKS_ALGORITHMS, description: `JWKS ${endpoint.url}` };
    }
  }
}

async function loadPem(pem: string, wanted?: string): Promise<VerificationKey> {
  const text = pem.trim();
  const alg = wanted ?? publicKeyAlgorithm(text);
  const key = text.includes("BEGIN CERTIFICATE") ? await importX509(text, alg) : await importSPKI(text, alg);
  return { key, algorithms: [alg], description: `${alg} public key` };
}
