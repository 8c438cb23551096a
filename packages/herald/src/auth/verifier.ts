import { decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from "jose";
import { invalidToken } from "../core/auth.ts";
import { HeraldError } from "../core/errors.ts";
import type { VerificationKey } from "./keys.ts";

export interface VerifyOptions {
  /** Required `iss` (when set). */
  readonly issuer?: string | undefined;
  /** Required `aud` (when set): the token's `aud` must be or contain it. */
  readonly audience?: string | undefined;
  /** Clock skew allowed on `exp`/`nbf`, in seconds (default 0). */
  readonly clockToleranceSec?: number;
  /** The clock, for tests (ms since the Unix epoch). */
  readonly now?: () => number;
}

/**
 * Verifies compact JWS tokens with jose 6: signature, `alg` pinned to the key (`none` refused),
 * `exp`, `nbf`, and `iss`/`aud` when configured. Knows nothing about Herald's claims (see
 * claims.ts): it answers the verified payload.
 *
 * Errors: an `AuthError` (401 `invalid_token`) whose description says why (token expired, token not
 * yet valid, bad signature, wrong audience, ...); a `HeraldError` `unavailable` when a JWKS cannot
 * be fetched. Descriptions never contain the token.
 */
export class JwtVerifier {
  constructor(
    readonly key: VerificationKey,
    private readonly options: VerifyOptions = {},
  ) {}

  /** The clock skew allowed on `exp` and `nbf` (HERALD_JWT_LEEWAY), in ms. */
  get leewayMs(): number {
    return (this.options.clockToleranceSec ?? 0) * 1000;
  }

  /** The verifier's clock (ms since the Unix epoch). */
  now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /**
   * `checks` adds per-call requirements (Mercure 1.0 access tokens, RFC 9068): an `issuer` and
   * `audience` (instead of the configured ones), a `typ` header (`at+jwt`, compared as RFC 9068
   * says: case-insensitive, `application/` optional) and a required `exp`.
   */
  async verify(
    token: string,
    checks: { issuer?: string; audience?: string; typ?: string; requireExp?: boolean } = {},
  ): Promise<JWTPayload> {
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token)) {
      throw invalidToken("token is malformed: expected a compact JWS (three base64url parts joined by dots)");
    }
    let alg: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch (error) {
      throw invalidToken("token is malformed: its header is not base64url-encoded JSON", error);
    }
    if (typeof alg !== "string" || alg.toLowerCase() === "none") {
      throw invalidToken('unsigned tokens (alg "none") are refused');
    }
    if (!this.key.algorithms.includes(alg)) {
      throw invalidToken(
        `algorithm ${alg} is not accepted; this hub's ${this.key.description} accepts ${this.key.algorithms.join(", ")}`,
      );
    }
    try {
      const now = this.options.now;
      const { payload } = await jwtVerify(token, this.key.key as Parameters<typeof jwtVerify>[1], {
        algorithms: [...this.key.algorithms],
        issuer: checks.issuer ?? this.options.issuer,
        audience: checks.audience ?? this.options.audience,
        typ: checks.typ,
        requiredClaims: checks.requireExp === true ? ["exp"] : undefined,
        clockTolerance: this.options.clockToleranceSec ?? 0,
        currentDate: now === undefined ? undefined : new Date(now()),
      });
      return payload;
    } catch (error) {
      throw explain(error, {
        issuer: checks.issuer ?? this.options.issuer,
        audience: checks.audience ?? this.options.audience,
        typ: checks.typ,
      });
    }
  }
}

/** Turns a jose error into Herald's: the description is what a client developer needs to fix the token. */
function explain(
  error: unknown,
  options: { issuer?: string | undefined; audience?: string | undefined; typ?: string | undefined },
): Error {
  if (error instanceof HeraldError) return error;
  if (error instanceof errors.JWTExpired) return invalidToken("token expired", error);
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "nbf":
        return invalidToken("token not yet valid (nbf is in the future)", error);
      case "iat":
        return invalidToken("token issued in the future (iat)", error);
      case "iss":
        return invalidToken(`wrong issuer: expected ${JSON.stringify(options.issuer)}`, error);
      case "aud":
        return invalidToken(`wrong audience: expected ${JSON.stringify(options.audience)}`, error);
      case "typ":
        return invalidToken(
          `the token's "typ" header must be ${JSON.stringify(options.typ)} (an OAuth 2.0 JWT access token, RFC 9068)`,
          error,
        );
      case "exp":
        return invalidToken('the token has no "exp" claim; access tokens must expire (RFC 9068)', error);
      default:
        return invalidToken(`claim ${error.claim} is ${error.reason}: ${error.message}`, error);
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return invalidToken("bad signature: the token was not signed with this hub's key", error);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return invalidToken("algorithm not accepted", error);
  if (error instanceof errors.JWKSNoMatchingKey) {
    return invalidToken("no key of the JWKS matches the token's kid and alg", error);
  }
  if (error instanceof errors.JWKSMultipleMatchingKeys) {
    return invalidToken("several keys of the JWKS match the token; give it a kid", error);
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || isFetchError(error)) {
    return new HeraldError("unavailable", "the JWKS cannot be fetched right now; retry shortly", {
      cause: error,
      retryAfterSeconds: 5,
    });
  }
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) {
    return invalidToken(`token is malformed: ${error.message}`, error);
  }
  if (error instanceof errors.JOSENotSupported || error instanceof errors.JOSEError) {
    return invalidToken(`token refused: ${error.message}`, error);
  }
  return invalidToken("token refused", error);
}

function isFetchError(error: unknown): boolean {
  // jose rethrows fetch failures (network errors, non-200 answers) as plain errors / JOSEError.
  return (
    error instanceof TypeError ||
    (error instanceof errors.JOSEError &&
      /response|fetch/i.test(error.message) &&
      error.code === "ERR_JOSE_GENERIC")
  );
}
