import { createHash } from "node:crypto";
import type { JWTPayload } from "jose";
import type { Authorizer, Principal } from "../core/auth.ts";
import { parseSelector } from "../core/topic.ts";
import { type ClaimsReader, heraldClaims } from "./claims.ts";
import type { JwtVerifier } from "./verifier.ts";

/**
 * The JWT Authorizer: a `JwtVerifier` (keys, algorithms, exp/nbf/iss/aud) plus a `ClaimsReader`
 * (which claim holds the topic rights). See the `Authorizer` contract in src/core/auth.ts.
 */
export class JwtAuthorizer implements Authorizer {
  /**
   * Tokens already verified with a static key (secret or PEM: the answer for a token cannot change
   * but by time), so a publisher sending the same token on every request pays for one signature
   * check, not one per publish. An entry lives until the token's `exp`, at most CACHE_MS; at most
   * CACHE_SIZE entries (the oldest go first). Refusals are never cached. Tokens checked against a
   * JWKS are not cached: a key removed from the set must stop working at once.
   */
  private readonly cache = new Map<string, { principal: Principal; until: number }>();
  private readonly cacheable: boolean;

  constructor(
    readonly verifier: JwtVerifier,
    private readonly claims: ClaimsReader = heraldClaims,
  ) {
    this.cacheable = typeof verifier.key.key !== "function";
  }

  async authenticate(token: string): Promise<Principal> {
    const now = this.verifier.now();
    if (this.cacheable) {
      const hit = this.cache.get(token);
      if (hit !== undefined && hit.until > now) return hit.principal;
      if (hit !== undefined) this.cache.delete(token);
    }
    const payload = await this.verifier.verify(token);
    const principal = principalOf(payload, this.claims(payload), token, this.verifier.leewayMs);
    if (this.cacheable) {
      if (this.cache.size >= CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(token, { principal, until: Math.min(now + CACHE_MS, principal.expiresAt ?? Infinity) });
    }
    return principal;
  }
}

const CACHE_MS = 60_000;
const CACHE_SIZE = 10_000;

/**
 * Builds the Principal of a verified payload. Its `expiresAt` is `exp` plus the leeway the
 * verifier allowed (HERALD_JWT_LEEWAY): a token it accepted is good until then, so a stream, a
 * cookie or a ticket made with it does not end before it was opened.
 */
export function principalOf(
  payload: JWTPayload,
  rights: { publish: readonly string[]; subscribe: readonly string[] },
  token: string,
  leewayMs = 0,
): Principal {
  const id =
    typeof payload.sub === "string" && payload.sub !== ""
      ? `sub:${payload.sub}`
      : `token:${createHash("sha256").update(token).digest("base64url").slice(0, 16)}`;
  return {
    id,
    anonymous: false,
    publish: rights.publish.map(parseSelector),
    subscribe: rights.subscribe.map(parseSelector),
    expiresAt: typeof payload.exp === "number" ? payload.exp * 1000 + leewayMs : undefined,
  };
}
