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
  constructor(
    readonly verifier: JwtVerifier,
    private readonly claims: ClaimsReader = heraldClaims,
  ) {}

  async authenticate(token: string): Promise<Principal> {
    const payload = await this.verifier.verify(token);
    return principalOf(payload, this.claims(payload), token);
  }
}

/** Builds the Principal of a verified payload. */
export function principalOf(
  payload: JWTPayload,
  rights: { publish: readonly string[]; subscribe: readonly string[] },
  token: string,
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
    expiresAt: typeof payload.exp === "number" ? payload.exp * 1000 : undefined,
  };
}
