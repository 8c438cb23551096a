/**
 * The JWT implementation of the core's Authorizer port (src/core/auth.ts), on jose 6.
 *
 *   const authorizer = await createJwtAuthorizer({ key: { kind: "secret", secret }, issuer, audience });
 *   const principal = await authorizer.authenticate(token); // or AuthError (401) / HeraldError unavailable
 *
 * Layers, each replaceable: keys.ts (key material -> jose key + pinned algorithms), verifier.ts
 * (signature and registered claims -> payload), claims.ts (payload -> topic rights; `heraldClaims`
 * or another format's reader), authorizer.ts (the two together -> Principal).
 */
import { JwtAuthorizer } from "./authorizer.ts";
import { type ClaimsReader, heraldClaims } from "./claims.ts";
import { type KeySource, loadKey } from "./keys.ts";
import { JwtVerifier, type VerifyOptions } from "./verifier.ts";

export { HMAC_ALGORITHMS, JWKS_ALGORITHMS } from "./algorithms.ts";
export { JwtAuthorizer, principalOf } from "./authorizer.ts";
export { type ClaimsReader, heraldClaims, readRights, type TopicRights } from "./claims.ts";
export { derPublicKeyAlgorithm, keyLike, pemOfDer, publicKeyAlgorithm } from "./key-text.ts";
export { type KeySource, loadKey, type VerificationKey } from "./keys.ts";
export { generateSecret, type MintOptions, mintHs256 } from "./tokens.ts";
export { JwtVerifier, type VerifyOptions } from "./verifier.ts";

export interface JwtAuthorizerOptions extends VerifyOptions {
  readonly key: KeySource;
  /** Which claim holds the topic rights (default: Herald's `herald` claim). */
  readonly claims?: ClaimsReader;
}

/** Loads the key and builds the authorizer. Rejects with an Error describing bad key material. */
export async function createJwtAuthorizer(options: JwtAuthorizerOptions): Promise<JwtAuthorizer> {
  const key = await loadKey(options.key);
  return new JwtAuthorizer(new JwtVerifier(key, options), options.claims ?? heraldClaims);
}
