import { createPublicKey, type KeyObject, type webcrypto, X509Certificate } from "node:crypto";
import { createRemoteJWKSet, importSPKI, importX509, type JWTVerifyGetKey } from "jose";
import { endpointOf } from "../http/url-credentials.ts";
import { JWKS_ALGORITHMS } from "./algorithms.ts";

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

const PEM_LABEL = /-----BEGIN ([A-Z0-9 ]+)-----/;

/**
 * What a key setting's text is when it looks like key material rather than a shared secret: "a PEM
 * public key (RS256)", "a PEM private key", "a JWK (JSON Web Key)", ...; undefined for any other
 * text. An HMAC key (HS256) must never be such text: a public key is no secret, so a hub that took
 * it as one would accept tokens anyone can sign (key confusion).
 */
export function keyLike(text: string): string | undefined {
  const trimmed = text.trim();
  const label = PEM_LABEL.exec(trimmed)?.[1];
  if (label !== undefined) {
    if (label.includes("PRIVATE KEY")) return "a PEM private key";
    const kind = label.includes("CERTIFICATE") ? "certificate" : "public key";
    try {
      // one-line PEM, as environment variables often carry it: literal "\n"
      return `a PEM ${kind} (${publicKeyAlgorithm(trimmed.replace(/\\n/g, "\n"))})`;
    } catch {
      return `a PEM block (${label})`;
    }
  }
  if (OPENSSH_PUBLIC_KEY.test(trimmed)) return "an OpenSSH public key";
  if (/^https?:\/\/\S+$/i.test(trimmed)) {
    return "a URL (a JWKS URL goes in MERCURE_JWKS or HERALD_JWKS_URL; its text is public)";
  }
  const der = derPublicKeyAlgorithm(trimmed);
  if (der !== undefined) return `a public key in base64 DER (${der})`;
  if (trimmed.startsWith("{")) {
    try {
      const json = JSON.parse(trimmed) as Record<string, unknown>;
      if (typeof json === "object" && json !== null) {
        if ("kty" in json) return "a JWK (JSON Web Key)";
        if ("keys" in json) return "a JWKS (JSON Web Key Set)";
      }
    } catch {
      // not JSON: ordinary text
    }
  }
  return undefined;
}

/** An OpenSSH public key line (`ssh-ed25519 AAAA... comment`, `ecdsa-sha2-nistp256 AAAA...`). */
const OPENSSH_PUBLIC_KEY =
  /^(ssh-(rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp\d+|sk-[a-z0-9-]+@openssh\.com) AAAA[A-Za-z0-9+/=]+/;

/**
 * The algorithm of a public key or certificate given as base64 (or base64url) DER without its PEM
 * lines (a PEM body pasted alone), or undefined when `text` is not one. Such text is as public as
 * the key: it must never be taken for a shared secret.
 */
export function derPublicKeyAlgorithm(text: string): string | undefined {
  const compact = text.replace(/\s+/g, "");
  if (compact.length < 64 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) return undefined;
  const der = Buffer.from(compact.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  if (der[0] !== 0x30) return undefined; // every DER key or certificate is a SEQUENCE
  try {
    return algorithmOf(createPublicKey({ key: der, format: "der", type: "spki" }));
  } catch {
    try {
      return algorithmOf(new X509Certificate(der).publicKey);
    } catch {
      return undefined;
    }
  }
}

/** `text` as PEM when it is a public key in base64 DER without its PEM lines; else `text`. */
export function pemOfDer(text: string): string {
  if (text.includes("-----BEGIN") || derPublicKeyAlgorithm(text) === undefined) return text;
  const compact = text.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/");
  let pem = "-----BEGIN PUBLIC KEY-----\n";
  const der = Buffer.from(compact, "base64");
  try {
    createPublicKey({ key: der, format: "der", type: "spki" });
    pem += `${der.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END PUBLIC KEY-----`;
  } catch {
    pem = `-----BEGIN CERTIFICATE-----\n${der.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END CERTIFICATE-----`;
  }
  return pem.replace(/\n\n/g, "\n");
}

/**
 * The one algorithm a PEM public key or certificate verifies (RS256 for RSA, ES256/ES384/ES512 by
 * curve, EdDSA for Ed25519). Throws an Error saying what the text is instead (not PEM, a private
 * key, an unsupported key type): a verification setting takes the public half only.
 */
export function publicKeyAlgorithm(pem: string): string {
  const label = PEM_LABEL.exec(pem)?.[1];
  if (label?.includes("PRIVATE KEY")) {
    throw new Error(
      'this is a private key; give the public key instead ("-----BEGIN PUBLIC KEY-----", e.g. from `openssl pkey -in key.pem -pubout`), and keep the private key out of the hub\'s settings',
    );
  }
  let keyObject: KeyObject;
  try {
    if (label === undefined) throw new Error("no -----BEGIN ...----- line");
    keyObject = createPublicKey(pem);
  } catch (error) {
    throw new Error(
      `the public key is not a PEM public key or certificate (${(error as Error).message}); pass a "-----BEGIN PUBLIC KEY-----" block`,
    );
  }
  return algorithmOf(keyObject);
}

/** The one algorithm a public key verifies: RS256 for RSA, ES256/ES384/ES512 by curve, EdDSA for Ed25519. */
function algorithmOf(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case "rsa":
      return "RS256";
    case "ec": {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === "prime256v1" || curve === "P-256") return "ES256";
      if (curve === "secp384r1" || curve === "P-384") return "ES384";
      if (curve === "secp521r1" || curve === "P-521") return "ES512";
      throw new Error(`EC curve ${curve} is not supported; use P-256 (ES256)`);
    }
    case "ed25519":
      return "EdDSA";
    default:
      throw new Error(
        `key type ${key.asymmetricKeyType} is not supported; use RSA (RS256) or EC P-256 (ES256)`,
      );
  }
}
