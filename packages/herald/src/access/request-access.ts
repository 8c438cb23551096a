import type { IncomingMessage } from "node:http";
import {
  type Authorizer,
  anonymousPrincipal,
  invalidToken,
  missingToken,
  type Principal,
} from "../core/auth.ts";
import { clientIp } from "../http/client-ip.ts";
import { readCookie } from "../http/cookies.ts";
import type { Limits } from "./limits.ts";

export interface AccessOptions {
  readonly authorizer: Authorizer;
  readonly allowAnonymousPublish: boolean;
  readonly allowAnonymousSubscribe: boolean;
  /** Cookie holding a subscriber token (read on streams only). */
  readonly cookieName: string;
  readonly trustProxy: boolean;
  /**
   * The publish rate and the control rate (HERALD_CONTROL_RATE, HERALD_CONTROL_BURST: one token per
   * request that appends a control record to the bus log, `chargeControl`) are taken from here.
   */
  readonly limits: Limits;
}

/** Longest token accepted: a larger header is refused before any parsing. */
const MAX_TOKEN_LENGTH = 8192;

/**
 * Who may do what, at the HTTP edge: finds the token of a request, has the Authorizer check it, and
 * applies the anonymous-access settings and the publish rate limit.
 *
 * Tokens: `Authorization: Bearer <token>` everywhere; on streams (GET) also the `cookieName`
 * cookie (the header wins). Publishing never reads the cookie, so a cross-site form cannot publish
 * with a visitor's cookie (no CSRF). A token that is present but refused is always a 401, even
 * where anonymous access is allowed: a client with a broken token learns it at once.
 */
export class Access {
  constructor(private readonly options: AccessOptions) {}

  /**
   * The publisher of a request, rate-limited; throws 401/429 before the body is read. The
   * principal itself when nothing had to be waited for (an anonymous publisher counted by this
   * process alone: no promise on the publish hot path), else a promise of it. Throws (or
   * rejects) 401/429.
   */
  publisher(req: IncomingMessage): Principal | Promise<Principal> {
    const token = bearerToken(req);
    if (token !== undefined) return this.tokenPublisher(token);
    if (!this.options.allowAnonymousPublish) {
      throw missingToken(
        'publishing needs a token: send "Authorization: Bearer <token>" (Herald prints one at start when no key is configured)',
      );
    }
    const principal = anonymousPrincipal(clientIp(req, this.options.trustProxy), true);
    const pending = this.options.limits.takePublish(principal.id);
    return pending === undefined ? principal : pending.then(() => principal);
  }

  private async tokenPublisher(token: string): Promise<Principal> {
    const principal = await this.options.authorizer.authenticate(token);
    const pending = this.options.limits.takePublish(principal.id);
    if (pending !== undefined) await pending;
    return principal;
  }

  /**
   * A batch of `events` from `principal` (returned by `publisher`, which took its first publish):
   * takes the rest of the publish rate it counts for (`Limits.takeBatch`: 429 / 413).
   */
  async publishBatch(principal: Principal, events: number): Promise<void> {
    const pending = this.options.limits.takeBatch(principal.id, events);
    if (pending !== undefined) await pending;
  }

  /**
   * Charges one control request (a ticket issued or redeemed, a stream's topics changed or token
   * renewed: each appends a record to the bus log, which anyone who holds a token, a stream id or
   * a forged ticket could otherwise flood) to `principal` (its token's subject or hash; `ip:` when
   * anonymous), or to the client IP without one. 429 with Retry-After past the control rate;
   * called after the token was verified and before the body is read, like the publish rate.
   */
  async chargeControl(req: IncomingMessage, principal?: Principal): Promise<void> {
    const key = principal?.id ?? `ip:${clientIp(req, this.options.trustProxy)}`;
    const pending = this.options.limits.takeControl(key);
    if (pending !== undefined) await pending;
  }

  /** The subscriber of a stream request: anonymous (public events only) or its token's principal. */
  async subscriber(req: IncomingMessage): Promise<Principal> {
    return (await this.subscriberWithToken(req)).principal;
  }

  /** `subscriber`, with the token it was read from (undefined: anonymous). */
  async subscriberWithToken(
    req: IncomingMessage,
  ): Promise<{ principal: Principal; token: string | undefined }> {
    const token = bearerToken(req) ?? this.cookieToken(req);
    if (token !== undefined) return { principal: await this.options.authorizer.authenticate(token), token };
    if (this.options.allowAnonymousSubscribe) {
      return { principal: anonymousPrincipal(clientIp(req, this.options.trustProxy), false), token };
    }
    throw missingToken(
      `this hub needs a token to subscribe: send "Authorization: Bearer <token>" or the ${this.options.cookieName} cookie`,
    );
  }

  private cookieToken(req: IncomingMessage): string | undefined {
    const value = readCookie(req.headers.cookie, this.options.cookieName);
    if (value === undefined || value === "") return undefined;
    if (value.length > MAX_TOKEN_LENGTH)
      throw invalidToken(`token is longer than ${MAX_TOKEN_LENGTH} characters`);
    return value;
  }
}

/** The token of `Authorization: Bearer <token>`; undefined without the header; 401 for another scheme. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined || header === "") return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  if (match === null) {
    throw invalidToken('the Authorization header must be "Bearer <token>"');
  }
  const token = match[1] as string;
  if (token.length > MAX_TOKEN_LENGTH)
    throw invalidToken(`token is longer than ${MAX_TOKEN_LENGTH} characters`);
  return token;
}
