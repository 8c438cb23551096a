import { createPublicKey, type KeyObject, X509Certificate } from "node:crypto";

/**
 * What a key setting's text is, read without jose: key material (a PEM block, a JWK, base64 DER,
 * an OpenSSH line, a URL) or ordinary text, and the one algorithm a public key verifies. The
 * config checks settings with it before anything loads (config/kinds.ts); keys.ts loads keys.
 */

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
  // SubjectPublicKeyInfo, an RSA key's own form (PKCS#1: "BEGIN RSA PUBLIC KEY"), a certificate
  for (const type of ["spki", "pkcs1"] as const) {
    try {
      return algorithmOf(createPublicKey({ key: der, format: "der", type }));
    } catch {}
  }
  try {
    return algorithmOf(new X509Certificate(der).publicKey);
  } catch {
    return undefined;
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
