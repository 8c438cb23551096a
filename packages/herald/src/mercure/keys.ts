import {
  JwtVerifier,
  keyLike,
  loadKey,
  pemOfDer,
  publicKeyAlgorithm,
  type VerificationKey,
} from "../auth/index.ts";
import type { HeraldConfig } from "../config/settings.ts";
import { MERCURE_ALGORITHMS, mercureAlgorithm } from "./algorithms.ts";
import { jwksIssuers, type TrustedIssuer } from "./v1/tokens.ts";

/** The algorithms a public key of each type verifies (keyed by `publicKeyAlgorithm`'s answer). */
const KEY_ALGORITHMS: Record<string, readonly string[]> = {
  RS256: ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"],
};

/** The settings Mercure's keys are read from. */
export type MercureKeySettings = Pick<
  HeraldConfig,
  | "mercureJwtKey"
  | "mercureJwtAlg"
  | "mercurePublisherJwtKey"
  | "mercurePublisherJwtAlg"
  | "mercureSubscriberJwtKey"
  | "mercureSubscriberJwtAlg"
  | "mercureIssuer"
  | "mercureProtocolCompatibility"
>;

export interface MercureVerifiers {
  /** Verifies publishers' tokens; undefined = no key, Mercure publishing is off. */
  readonly publisher: JwtVerifier | undefined;
  /** Verifies subscribers' tokens; undefined = no key, every subscriber is anonymous. */
  readonly subscriber: JwtVerifier | undefined;
}

/** One role's key as configured: its text and algorithm, and the settings each came from. */
interface MercureKey {
  readonly key: string;
  readonly keySetting: string;
  readonly alg: string;
  readonly algSetting: string;
}

/**
 * The publisher's and subscriber's keys, as the Mercure hub reads them: each defaults to
 * MERCURE_JWT_KEY, its algorithm to MERCURE_JWT_ALG (HS256). Undefined: no MERCURE_* key.
 */
function mercureKeys(config: MercureKeySettings): { publisher?: MercureKey; subscriber?: MercureKey } {
  const of = (role: "PUBLISHER" | "SUBSCRIBER", key: string, roleAlg: string): MercureKey | undefined => {
    if (key === "" && config.mercureJwtKey === "") return undefined;
    const alg = roleAlg !== "" ? roleAlg : config.mercureJwtAlg;
    return {
      key: key !== "" ? key : config.mercureJwtKey,
      keySetting: key !== "" ? `MERCURE_${role}_JWT_KEY` : "MERCURE_JWT_KEY",
      alg: mercureAlgorithm(alg) ?? alg,
      algSetting: roleAlg !== "" ? `MERCURE_${role}_JWT_ALG` : "MERCURE_JWT_ALG",
    };
  };
  return {
    publisher: of("PUBLISHER", config.mercurePublisherJwtKey, config.mercurePublisherJwtAlg),
    subscriber: of("SUBSCRIBER", config.mercureSubscriberJwtKey, config.mercureSubscriberJwtAlg),
  };
}

/**
 * Refuses every MERCURE_* key that does not fit its algorithm (at start, before anything runs):
 * an HMAC algorithm (HS*) with text that is key material (a PEM block, a JWK): a public key is no
 * secret, so tokens signed with it by anyone would be accepted; an asymmetric one (RS256, ES*)
 * with text that is not a PEM public key or certificate of the matching type. Throws an Error
 * naming the setting and what would fit.
 */
export function checkMercureKeys(config: MercureKeySettings): void {
  const { publisher, subscriber } = mercureKeys(config);
  if (publisher !== undefined) checkKey(publisher);
  if (subscriber !== undefined) checkKey(subscriber);
  if ((publisher !== undefined || subscriber !== undefined) && config.mercureIssuer === "") {
    if (config.mercureProtocolCompatibility !== 8) {
      throw new Error(
        "MERCURE_ISSUER is not set: Mercure 1.0 access tokens are verified with a MERCURE_* key only for the issuer (iss) it is bound to; set MERCURE_ISSUER to the iss of your tokens (e.g. https://example.com), or set MERCURE_PROTOCOL_VERSION_COMPATIBILITY=8 to accept Mercure 0.x tokens only",
      );
    }
  }
}

/**
 * The issuers of Mercure 1.0 access tokens: MERCURE_ISSUER with the MERCURE_* keys (or Herald's
 * own key when no MERCURE_* key is set), and each issuer of MERCURE_JWKS with its JWKS.
 */
export async function mercureIssuers(
  config: Pick<HeraldConfig, "mercureIssuer" | "mercureJwks">,
  verifiers: MercureVerifiers,
): Promise<TrustedIssuer[]> {
  const issuers: TrustedIssuer[] = [];
  if (config.mercureIssuer !== "") {
    issuers.push({
      issuer: config.mercureIssuer,
      publisher: verifiers.publisher,
      subscriber: verifiers.subscriber,
    });
  }
  for (const issuer of await jwksIssuers(config.mercureJwks)) {
    if (issuers.some((known) => known.issuer === issuer.issuer)) {
      throw new Error(
        `MERCURE_JWKS: the issuer ${JSON.stringify(issuer.issuer)} is listed twice (or is MERCURE_ISSUER)`,
      );
    }
    issuers.push(issuer);
  }
  return issuers;
}

/**
 * MERCURE_AUTHORIZATION_SERVERS (the metadata's `authorization_servers`) must name trusted
 * issuers: a client sent to an authorization server whose tokens the hub refuses could never get
 * in. Throws an Error naming the setting otherwise.
 */
export function checkAuthorizationServers(
  servers: readonly string[],
  issuers: readonly TrustedIssuer[],
): void {
  for (const server of servers) {
    if (issuers.some((known) => known.issuer === server)) continue;
    const trusted = issuers.length === 0 ? "none" : issuers.map((i) => JSON.stringify(i.issuer)).join(", ");
    throw new Error(
      `MERCURE_AUTHORIZATION_SERVERS / --mercure-authorization-servers: ${JSON.stringify(server)} is not a trusted issuer (trusted: ${trusted}), so the hub would refuse the tokens it issues; list MERCURE_ISSUER or issuers of MERCURE_JWKS, or trust it with MERCURE_JWKS=<issuer>=<JWKS URL>`,
    );
  }
}

/** Returns the algorithm the key verifies (its PEM form for an asymmetric one). */
function checkKey({ key, keySetting, alg, algSetting }: MercureKey): string | undefined {
  // A loaded config's algorithms were checked as values (config/kinds.ts); a config built in code was not.
  if (!MERCURE_ALGORITHMS.includes(alg)) {
    throw new Error(
      `invalid ${algSetting}: ${JSON.stringify(alg)}; it accepts one of ${MERCURE_ALGORITHMS.join(", ")}`,
    );
  }
  if (alg.startsWith("HS")) {
    const notSecret = keyLike(key);
    if (notSecret === undefined) return undefined;
    const fits = /\((RS256|ES256|ES384|ES512|EdDSA)\)$/.exec(notSecret)?.[1];
    throw new Error(
      `${keySetting} is ${notSecret}, but its algorithm is ${alg} (${algSetting}, HS256 by default): an HMAC key is a shared secret, and a public key is no secret (anyone could sign tokens with it). ${
        fits !== undefined
          ? `Set ${algSetting}=${fits} to verify tokens with this key`
          : "Give a PEM public key with RS256, ES256 or EdDSA"
      }, or set ${keySetting} to a secret`,
    );
  }
  // Environment variables often carry PEM blocks with literal "\n", or the PEM body alone.
  const pem = key.includes("-----BEGIN") ? key.replace(/\\n/g, "\n") : pemOfDer(key);
  let fits: string;
  try {
    fits = publicKeyAlgorithm(pem.trim());
  } catch (error) {
    throw new Error(
      `${keySetting}: ${(error as Error).message} (its algorithm is ${alg}, ${algSetting}); or set ${algSetting} to HS256 to use the text as a shared secret`,
    );
  }
  if (fits !== alg && !KEY_ALGORITHMS[fits]?.includes(alg)) {
    throw new Error(
      `${keySetting}: this is a ${fits} public key; it cannot verify ${alg} tokens (${algSetting}): set ${algSetting}=${fits}, or give a key for ${alg}`,
    );
  }
  return pem;
}

/**
 * Builds the verifiers of the Mercure routes from the MERCURE_* settings (see `mercureKeys`).
 * Without any MERCURE_* key, `heraldVerifier` (Herald's own configured key: HERALD_JWT_SECRET,
 * HERALD_JWT_PUBLIC_KEY or HERALD_JWKS_URL, with its iss/aud checks) is used for both.
 * Verification itself is the auth module's (`JwtVerifier`, jose 6). Rejects like
 * `checkMercureKeys` when a key does not fit its algorithm.
 */
export async function mercureVerifiers(
  config: MercureKeySettings,
  heraldVerifier?: JwtVerifier,
): Promise<MercureVerifiers> {
  const { publisher, subscriber } = mercureKeys(config);
  const build = async (key: MercureKey | undefined) =>
    key === undefined ? heraldVerifier : new JwtVerifier(await verificationKey(key));
  return { publisher: await build(publisher), subscriber: await build(subscriber) };
}

async function verificationKey(key: MercureKey): Promise<VerificationKey> {
  const pem = checkKey(key);
  if (pem === undefined) {
    return {
      key: new TextEncoder().encode(key.key),
      algorithms: [key.alg],
      description: `${key.alg} secret`,
    };
  }
  return loadKey({ kind: "pem", pem, alg: key.alg });
}
