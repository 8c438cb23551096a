import { createHash } from "node:crypto";
import { decodeJwt, decodeProtectedHeader, type JWTPayload } from "jose";
import { type JwtVerifier, loadKey } from "../../auth/index.ts";
import { JwtVerifier as Verifier } from "../../auth/verifier.ts";
import { invalidToken } from "../../core/auth.ts";
import type { MercureSelectors } from "../selectors.ts";
import { type MercureGrants, readGrants } from "./details.ts";
import type { HubIdentity } from "./identity.ts";

/** An issuer the hub trusts (spec "Token Validation"), with the verifier of each role. */
export interface TrustedIssuer {
  readonly issuer: string;
  readonly publisher: JwtVerifier | undefined;
  readonly subscriber: JwtVerifier | undefined;
}

/** A verified Mercure 1.0 access token. */
export interface AccessToken {
  /** `sub:<iss> <sub>`, else `token:<hash>`: a stable key for rate limits and logs (never the token). */
  readonly id: string;
  readonly grants: MercureGrants;
  /** `exp` in ms since the Unix epoch (always present: RFC 9068 requires it). */
  readonly expiresAt: number;
}

/**
 * Is `token` a Mercure 1.0 access token (RFC 9068 `typ: at+jwt`, or `authorization_details`), as
 * opposed to a 0.x token (the `mercure` claim)? Read without verifying: it only picks the rules
 * the token is then verified by. Malformed tokens count as 1.0 (and fail its checks).
 */
export function isAccessToken(token: string): boolean {
  try {
    const typ = decodeProtectedHeader(token).typ;
    if (typeof typ === "string" && /^(application\/)?at\+jwt$/i.test(typ)) return true;
    return decodeJwt(token).authorization_details !== undefined;
  } catch {
    return true;
  }
}

/**
 * Verifies a 1.0 access token for `role` (spec "Token Validation"): the key is chosen by the
 * token's `iss` among the trusted issuers (never a pool of every issuer's keys), then jose checks
 * the signature with that key's algorithms (`none` refused), `typ` (`at+jwt`), a required `exp`,
 * `nbf`, `iss`, and `aud` (must be or contain the hub's resource identifier). Then its
 * `authorization_details` are read (details.ts). Any failure: 401 `invalid_token`.
 */
export async function verifyAccessToken(
  token: string,
  role: "publisher" | "subscriber",
  issuers: readonly TrustedIssuer[],
  identity: HubIdentity,
  selectors: MercureSelectors,
): Promise<AccessToken> {
  let iss: unknown;
  try {
    iss = decodeJwt(token).iss;
  } catch (error) {
    throw invalidToken("token is malformed: expected a JWS in compact form with a JSON payload", error);
  }
  if (typeof iss !== "string" || iss === "") {
    throw invalidToken('the token has no "iss" claim; access tokens name their issuer (RFC 9068)');
  }
  const trusted = issuers.find((candidate) => candidate.issuer === iss);
  if (trusted === undefined) {
    throw invalidToken(
      `untrusted issuer ${JSON.stringify(iss)}: this hub trusts ${
        issuers.length === 0
          ? "no issuer (set MERCURE_ISSUER)"
          : issuers.map((i) => JSON.stringify(i.issuer)).join(", ")
      }`,
    );
  }
  const verifier = trusted[role];
  if (verifier === undefined) {
    throw invalidToken(`no ${role} key is configured for the issuer ${JSON.stringify(iss)}`);
  }
  const payload: JWTPayload = await verifier.verify(token, {
    issuer: iss,
    audience: identity.resource,
    typ: "at+jwt",
    requireExp: true,
  });
  const grants = readGrants(payload.authorization_details, selectors, identity.base);
  const id =
    typeof payload.sub === "string" && payload.sub !== ""
      ? `sub:${iss} ${payload.sub}`
      : `token:${createHash("sha256").update(token).digest("base64url").slice(0, 16)}`;
  // good until exp plus the leeway the verifier allowed (auth/authorizer.ts principalOf)
  return { id, grants, expiresAt: (payload.exp as number) * 1000 + verifier.leewayMs };
}

/**
 * The issuers of MERCURE_JWKS (`<issuer>=<JWKS URL>` entries), each verifying both roles with
 * its own JWKS (fetched lazily, refreshed on an unknown `kid`). Throws an Error naming the entry
 * when one is malformed.
 */
export async function jwksIssuers(entries: readonly string[]): Promise<TrustedIssuer[]> {
  const issuers: TrustedIssuer[] = [];
  for (const entry of entries) {
    const at = entry.indexOf("=");
    const issuer = entry.slice(0, at).trim();
    const url = entry.slice(at + 1).trim();
    if (at <= 0 || issuer === "" || url === "") {
      throw new Error(`MERCURE_JWKS: ${JSON.stringify(entry)} is not <issuer>=<JWKS URL>`);
    }
    let verifier: Verifier;
    try {
      verifier = new Verifier(await loadKey({ kind: "jwks", url }));
    } catch (error) {
      throw new Error(`MERCURE_JWKS: ${JSON.stringify(entry)}: ${(error as Error).message}`);
    }
    issuers.push({ issuer, publisher: verifier, subscriber: verifier });
  }
  return issuers;
}
