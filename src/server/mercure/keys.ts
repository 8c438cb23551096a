import { JwtVerifier, loadKey, type VerificationKey } from "../../auth/index.ts";
import type { HeraldConfig } from "../config.ts";

/** The algorithms Mercure keys may use here (Mercure's `*_jwt_alg` values that jose verifies). */
export const MERCURE_ALGORITHMS = ["HS256", "HS384", "HS512", "RS256", "ES256", "ES384", "ES512"];

export interface MercureVerifiers {
  /** Verifies publishers' tokens; undefined = no key, Mercure publishing is off. */
  readonly publisher: JwtVerifier | undefined;
  /** Verifies subscribers' tokens; undefined = no key, every subscriber is anonymous. */
  readonly subscriber: JwtVerifier | undefined;
}

/**
 * Builds the verifiers of the Mercure routes from the MERCURE_* settings, as the Mercure hub reads
 * them: the publisher and subscriber keys default to MERCURE_JWT_KEY, their algorithms to
 * MERCURE_JWT_ALG (HS256). Without any MERCURE_* key, `heraldVerifier` (Herald's own configured
 * key: HERALD_JWT_SECRET, HERALD_JWT_PUBLIC_KEY or HERALD_JWKS_URL, with its iss/aud checks) is
 * used for both. Verification itself is the auth module's (`JwtVerifier`, jose 6).
 * Throws an Error naming the setting when a key does not fit its algorithm.
 */
export async function mercureVerifiers(
  config: HeraldConfig,
  heraldVerifier?: JwtVerifier,
): Promise<MercureVerifiers> {
  const build = async (role: "PUBLISHER" | "SUBSCRIBER", key: string, alg: string) => {
    const keyText = key !== "" ? key : config.mercureJwtKey;
    if (keyText === "") return heraldVerifier;
    const algorithm = (alg !== "" ? alg : config.mercureJwtAlg).toUpperCase();
    return new JwtVerifier(await verificationKey(keyText, algorithm, `MERCURE_${role}_JWT_KEY`));
  };
  return {
    publisher: await build("PUBLISHER", config.mercurePublisherJwtKey, config.mercurePublisherJwtAlg),
    subscriber: await build("SUBSCRIBER", config.mercureSubscriberJwtKey, config.mercureSubscriberJwtAlg),
  };
}

async function verificationKey(key: string, alg: string, setting: string): Promise<VerificationKey> {
  if (!MERCURE_ALGORITHMS.includes(alg)) {
    throw new Error(
      `${setting}: algorithm ${alg} is not supported; use one of ${MERCURE_ALGORITHMS.join(", ")}`,
    );
  }
  if (alg.startsWith("HS")) {
    return { key: new TextEncoder().encode(key), algorithms: [alg], description: `${alg} secret` };
  }
  // Environment variables often carry PEM blocks with literal "\n".
  const pem = key.includes("-----BEGIN") ? key.replace(/\\n/g, "\n") : key;
  let loaded: VerificationKey;
  try {
    loaded = await loadKey({ kind: "pem", pem });
  } catch (error) {
    throw new Error(`${setting}: ${(error as Error).message}`);
  }
  if (!loaded.algorithms.includes(alg)) {
    throw new Error(`${setting}: this is a ${loaded.description}; it cannot verify ${alg} tokens`);
  }
  return loaded;
}
