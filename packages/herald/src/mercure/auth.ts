import type { IncomingMessage } from "node:http";
import { AuthError, invalidToken } from "../core/auth.ts";
import { readCookie } from "../http/cookies.ts";
import { type MercureClaims, mercureClaims } from "./claims.ts";
import type { MercureVerifiers } from "./keys.ts";
import type { MercureSelectors } from "./selectors.ts";
import { type HubIdentity, hubIdentity } from "./v1/identity.ts";
import { isAccessToken, type TrustedIssuer, verifyAccessToken } from "./v1/tokens.ts";

/** The cookie of Mercure 0.x, read besides the configured one in compatibility mode. */
export const LEGACY_COOKIE = "mercureAuthorization";

export interface MercureAuthOptions {
  /** The keys of 0.x tokens (the `mercure` claim). */
  readonly verifiers: MercureVerifiers;
  /** The issuers of 1.0 access tokens, each with its keys. */
  readonly issuers: readonly TrustedIssuer[];
  readonly selectors: MercureSelectors;
  readonly cookieName: string;
  /** Origins allowed to publish with the cookie (`*` = any). */
  readonly publishOrigins: readonly string[];
  /** MERCURE_PROTOCOL_VERSION_COMPATIBILITY=8: 0.x tokens and their presentations are accepted too. */
  readonly compat: boolean;
  /** MERCURE_RESOURCE_IDENTIFIER ("" = derived from each request). */
  readonly resourceIdentifier: string;
  readonly trustProxy: boolean;
}

type Found = { token: string; from: "header" | "query" | "cookie" };

/**
 * Who a Mercure request comes from (spec "Presenting the Access Token"). The token is taken from
 * the `Authorization: Bearer` header, else the cookie (MERCURE_COOKIE_NAME,
 * `__Secure-mercure_access_token` by default); a cookie beside the header is ignored. No query
 * parameter is read, except 0.x's `authorization` (between the two) in compatibility mode, for 0.x
 * tokens only (a 1.0 access token there is a 400 `invalid_request`), where
 * the 0.x cookie `mercureAuthorization` is read too when the configured one is absent.
 *
 * A token with `typ: at+jwt` or `authorization_details` is a 1.0 access token, verified as RFC
 * 9068 says (v1/tokens.ts); any other is a 0.x token (the `mercure` claim, claims.ts), accepted
 * only in compatibility mode, with 0.x's checks (no required `exp`, `aud` or `iss`).
 *
 * CSRF: a POST authorized by the cookie alone must come from an origin of `publishOrigins`
 * (checked on `Origin`, else `Referer`; neither = refused), as the Mercure hub does: 400
 * `invalid_request` for a 1.0 token (401 / 403 for a 0.x one, as before).
 */
export class MercureAuth {
  constructor(private readonly options: MercureAuthOptions) {}

  get compat(): boolean {
    return this.options.compat;
  }

  /** The hub's identity for `req` (resource identifier, metadata URL, URL-pattern base). */
  identity(req: IncomingMessage): HubIdentity {
    return hubIdentity(req, this.options.resourceIdentifier, this.options.trustProxy);
  }

  get publishingEnabled(): boolean {
    return (
      this.options.issuers.some((i) => i.publisher !== undefined) ||
      (this.options.compat && this.options.verifiers.publisher !== undefined)
    );
  }

  get subscriberAuth(): boolean {
    return (
      this.options.issuers.some((i) => i.subscriber !== undefined) ||
      (this.options.compat && this.options.verifiers.subscriber !== undefined)
    );
  }

  /**
   * A publisher's claims. Rejects with an `AuthError`: 401 (no token: a bare challenge; a bad
   * one: `invalid_token`), 400 `invalid_request` (malformed header, cookie from a refused origin).
   */
  async publisher(
    req: IncomingMessage,
    url: URL,
    identity: HubIdentity = this.identity(req),
  ): Promise<MercureClaims> {
    if (!this.publishingEnabled) {
      throw new AuthError(
        "unauthorized",
        undefined,
        "Mercure publishing is off: no key is configured; set MERCURE_ISSUER and MERCURE_PUBLISHER_JWT_KEY or MERCURE_JWT_KEY (or MERCURE_JWKS)",
      );
    }
    const found = this.token(req, url);
    if (found === undefined) {
      throw new AuthError(
        "unauthorized",
        undefined,
        'publishing needs an access token: send "Authorization: Bearer <token>" (typ at+jwt, with a Mercure authorization detail allowing "publish")',
      );
    }
    return this.claims(found, "publisher", req, identity);
  }

  /**
   * A subscriber's claims, or undefined for an anonymous one (no token, or no subscriber key
   * configured: then tokens are not read at all). A presented token that fails is a 401 even when
   * anonymous subscribers are allowed.
   */
  async subscriber(
    req: IncomingMessage,
    url: URL,
    identity: HubIdentity = this.identity(req),
  ): Promise<MercureClaims | undefined> {
    if (!this.subscriberAuth) return undefined;
    const found = this.token(req, url);
    if (found === undefined) return undefined;
    return this.claims(found, "subscriber", req, identity);
  }

  private async claims(
    found: Found,
    role: "publisher" | "subscriber",
    req: IncomingMessage,
    identity: HubIdentity,
  ): Promise<MercureClaims> {
    if (isAccessToken(found.token)) {
      if (found.from === "query") {
        // compatibility mode reads 0.x's query parameter; a 1.0 token is never taken from a URL
        throw new AuthError(
          "bad_request",
          "invalid_request",
          "a Mercure 1.0 access token is not accepted in the URL (RFC 9700: URLs end up in logs and histories): send it in the Authorization header or the cookie",
        );
      }
      if (role === "publisher" && found.from === "cookie") this.checkOrigin(req, true);
      const token = await verifyAccessToken(
        found.token,
        role,
        this.options.issuers,
        identity,
        this.options.selectors,
      );
      return {
        id: token.id,
        publish: token.grants.publish,
        subscribe: token.grants.subscribe,
        payload: undefined,
        expiresAt: token.expiresAt,
        grants: token.grants,
      };
    }
    const verifier = this.options.verifiers[role];
    if (!this.options.compat || verifier === undefined) {
      throw invalidToken(
        this.options.compat
          ? `this hub has no ${role} key for Mercure 0.x tokens`
          : 'this is a Mercure 0.x token (no "typ: at+jwt", no "authorization_details"): issue an OAuth 2.0 access token (docs/mercure.md), or start the hub with MERCURE_PROTOCOL_VERSION_COMPATIBILITY=8',
      );
    }
    if (role === "publisher" && found.from === "cookie") this.checkOrigin(req, false);
    return mercureClaims(
      await verifier.verify(found.token),
      found.token,
      this.options.selectors,
      verifier.leewayMs,
    );
  }

  private token(req: IncomingMessage, url: URL): Found | undefined {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
      if (match === null) {
        throw new AuthError(
          "bad_request",
          "invalid_request",
          'the Authorization header must be "Bearer <token>" (one token, RFC 6750)',
        );
      }
      return { token: match[1] as string, from: "header" };
    }
    if (this.options.compat) {
      const query = url.searchParams.get("authorization");
      if (query !== null && query !== "") return { token: query, from: "query" };
    }
    let cookie = readCookie(req.headers.cookie, this.options.cookieName);
    if ((cookie === undefined || cookie === "") && this.options.compat) {
      cookie = readCookie(req.headers.cookie, LEGACY_COOKIE);
    }
    if (cookie !== undefined && cookie !== "") return { token: cookie, from: "cookie" };
    return undefined;
  }

  private checkOrigin(req: IncomingMessage, modern: boolean): void {
    const refuse = (why: string, zeroX: () => AuthError): AuthError =>
      modern ? new AuthError("bad_request", "invalid_request", why) : zeroX();
    let origin = req.headers.origin;
    if (origin === undefined || origin === "null") {
      const referer = req.headers.referer;
      const why =
        'publishing with the cookie needs an "Origin" or "Referer" header (CSRF protection); or send the token in the Authorization header';
      if (referer === undefined) throw refuse(why, () => invalidToken(why));
      try {
        origin = new URL(referer).origin;
      } catch {
        throw refuse("the Referer header is not a URL", () =>
          invalidToken("the Referer header is not a URL"),
        );
      }
    }
    const allowed = this.options.publishOrigins.map((o) => o.replace(/\/$/, ""));
    if (allowed.includes("*") || allowed.includes(origin.replace(/\/$/, ""))) return;
    const why = `origin ${JSON.stringify(origin)} may not publish with the cookie; add it to MERCURE_PUBLISH_ORIGINS`;
    throw refuse(why, () => new AuthError("forbidden", "insufficient_scope", why));
  }
}
