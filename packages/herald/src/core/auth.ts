import { HeraldError } from "./errors.ts";
import { selectorMatches, type TopicSelector } from "./topic.ts";

/**
 * Authorization, as the hub and the server see it: who is asking (a Principal), what it may do,
 * and until when. No I/O here; the JWT implementation is src/auth/ (`JwtAuthorizer implements
 * Authorizer`). Topic rights use the selector syntax of topic.ts (exact, `*`, prefix `a/*`).
 */
export interface Principal {
  /**
   * A stable key for the credential, for rate limits and logs: `sub:<sub>` when the token has a
   * subject, `token:<hash>` otherwise, `ip:<address>` for an anonymous client. Never the token itself.
   */
  readonly id: string;
  /** True when no token was presented. */
  readonly anonymous: boolean;
  /** Topics this principal may publish to. */
  readonly publish: readonly TopicSelector[];
  /** Topics on which it may receive private events (`Subscriber.privateSelectors`). */
  readonly subscribe: readonly TopicSelector[];
  /** When its credential expires (ms since the Unix epoch); undefined = it does not expire. */
  readonly expiresAt: number | undefined;
}

/**
 * The Authorizer port: turns a bearer token into a Principal.
 *
 * Contract: `authenticate` resolves only for a token whose signature, algorithm (pinned to the key,
 * `none` refused), `exp`, `nbf` and, when configured, `iss` and `aud` all checked. Otherwise it
 * rejects with an `AuthError` (401, `invalid_token`, with the reason in `description`), or with a
 * `HeraldError` of code `unavailable` when the keys cannot be fetched right now (JWKS down).
 * It never throws synchronously and never logs the token.
 */
export interface Authorizer {
  authenticate(token: string): Promise<Principal>;
}

/** The RFC 6750 error codes Herald answers with. */
export type BearerError = "invalid_request" | "invalid_token" | "insufficient_scope";

/**
 * A refused credential: 401 (no or bad token), 403 (token fine, action not allowed) or 400 (the
 * token's presentation is malformed, RFC 6750 `invalid_request`). `challenge`
 * is the `WWW-Authenticate` header value, e.g.
 * `Bearer realm="herald", error="invalid_token", error_description="token expired"`.
 */
export class AuthError extends HeraldError {
  readonly challenge: string;
  constructor(
    private readonly authCode: "unauthorized" | "forbidden" | "bad_request",
    readonly bearerError: BearerError | undefined,
    readonly description: string,
    private readonly options: { realm?: string; cause?: unknown } = {},
  ) {
    super(authCode, description, { cause: options.cause });
    let challenge = `Bearer realm="${quotable(options.realm ?? "herald")}"`;
    if (bearerError !== undefined) {
      challenge += `, error="${bearerError}", error_description="${quotable(description)}"`;
    }
    this.challenge = challenge;
  }

  /** The same refusal with `prefix` before its reason (e.g. which event of a batch was refused). */
  prefixed(prefix: string): AuthError {
    return new AuthError(this.authCode, this.bearerError, `${prefix}${this.description}`, this.options);
  }
}

/** 401 with the reason of the refusal (expired, bad signature, ...). */
export const invalidToken = (description: string, cause?: unknown): AuthError =>
  new AuthError("unauthorized", "invalid_token", description, { cause });

/** 401 without an error code: no credentials were presented (RFC 6750 section 3.1). */
export const missingToken = (description: string): AuthError =>
  new AuthError("unauthorized", undefined, description);

// RFC 6750: error_description is printable ASCII without `"` and `\`.
function quotable(text: string): string {
  return text.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, "?");
}

/** A principal without a token. `mayPublish` grants every topic (HERALD_ALLOW_ANONYMOUS_PUBLISH). */
export function anonymousPrincipal(clientKey: string, mayPublish: boolean): Principal {
  return {
    id: `ip:${clientKey}`,
    anonymous: true,
    publish: mayPublish ? [{ kind: "all" }] : [],
    subscribe: [],
    expiresAt: undefined,
  };
}

/** The topics of `topics` that `principal` may not publish to (empty: all allowed). */
export function topicsNotAllowed(principal: Principal, topics: readonly string[]): string[] {
  return topics.filter((topic) => !principal.publish.some((selector) => selectorMatches(selector, topic)));
}

/** Throws a 403 `AuthError` naming the topics when `principal` may not publish to all of `topics`. */
export function authorizePublish(principal: Principal, topics: readonly string[]): void {
  if (allowsAll(principal.publish, topics)) return; // no array, no closure: the publish hot path
  const refused = topicsNotAllowed(principal, topics);
  const names = refused
    .slice(0, 5)
    .map((t) => JSON.stringify(t))
    .join(", ");
  throw new AuthError(
    "forbidden",
    "insufficient_scope",
    principal.anonymous
      ? `publishing needs a token; present one with "Authorization: Bearer <token>"`
      : `this token may not publish to ${names}${refused.length > 5 ? ", ..." : ""}; its publish claim must list a selector matching every topic of the event`,
  );
}

function allowsAll(selectors: readonly TopicSelector[], topics: readonly string[]): boolean {
  for (const topic of topics) {
    let allowed = false;
    for (const selector of selectors) {
      if (selectorMatches(selector, topic)) {
        allowed = true;
        break;
      }
    }
    if (!allowed) return false;
  }
  return true;
}
