/**
 * The JWT algorithms Herald verifies, by name (no crypto here: the config's kinds check names
 * with them before anything loads). `none` is never one of them.
 */

/** HMAC algorithms: the key is a shared secret. */
export const HMAC_ALGORITHMS = ["HS256", "HS384", "HS512"];

/** Asymmetric algorithms accepted from a JWKS; jose also checks each JWK's `kty`/`crv`/`alg` against the token's `alg`. */
export const JWKS_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
];
