import { HMAC_ALGORITHMS, JWKS_ALGORITHMS } from "../auth/algorithms.ts";

/**
 * The algorithms Mercure keys may use here (MERCURE_*_JWT_ALG): the Mercure hub's `*_jwt_alg`
 * (the spec's allowlist "SHOULD include at minimum EdDSA, ES256, and RS256"). Never `none`.
 */
export const MERCURE_ALGORITHMS = [...HMAC_ALGORITHMS, ...JWKS_ALGORITHMS];

/** `alg` spelled as in MERCURE_ALGORITHMS (names are matched in any case), or undefined when it is none of them. */
export function mercureAlgorithm(alg: string): string | undefined {
  return MERCURE_ALGORITHMS.find((known) => known.toLowerCase() === alg.toLowerCase());
}
