import type { IncomingMessage } from "node:http";
import { AuthError, invalidToken } from "../core/auth.ts";
import { readCookie } from "../http/cookies.ts";
import { type MercureClaims, mercureClaims } from "./claims.ts";
import type { MercureVerifiers } from "./keys.ts";
import type { MercureSelectors } from "./selectors.ts";

export interface MercureAuthOptions {
  readonly verifiers: MercureVerifiers;
  readonly selectors: MercureSelectors;
  readonly cookieName: string;
  /** Origins allowed to publish with the cookie (`*` = any). */
  readonly publishOrigins: readonly string[];
}

/**
 * Who a Mercure request comes from. The token is taken, as the spec orders, from the
 * `Authorization: Bearer` header, else the `authorization` query parameter, else the cookie
 * (`mercureAuthorization` by default); the others are then ignored. It is verified by the auth
 * module's `JwtVerifier` (jose 6) and its claims read by `mercureClaims`.
 *
 * CSRF: a POST authorized by the cookie alone must come from an origin of `publishOrigins`
 * (checked on `Origin`, else `Referer`; neither = refused), as the Mercure hub does.
 */
export class MercureAuth {
  constructor(private readonly options: MercureAuthOptions) {}

  get publishingEnabled(): boolean {
    return this.options.verifiers.publisher !== undefined;
  }

  get subscriberAuth(): boolean {
    return this.options.verifiers.subscriber !== undefined;
  }

  /** A publisher's claims. Rejects with a 401 `AuthError` (no/bad token) or 403 (origin refused). */
  async publisher(req: IncomingMessage, url: URL): Promise<MercureClaims> {
    const verifier = this.options.verifiers.publisher;
    if (verifier === undefined) {
      throw new AuthError(
        "unauthorized",
        undefined,
        "Mercure publishing is off: no key is configured; set MERCURE_PUBLISHER_JWT_KEY, MERCURE_JWT_KEY or HERALD_JWT_SECRET",
      );
    }
    const found = this.token(req, url);
    if (found === undefined) {
      throw new AuthError(
        "unauthorized",
        undefined,
        'publishing needs a JWT: send "Authorization: Bearer <token>" with a "mercure.publish" claim',
      );
    }
    if (found.from === "cookie") this.checkOrigin(req);
    return mercureClaims(await verifier.verify(found.token), found.token, this.options.selectors);
  }

  /**
   * A subscriber's claims, or undefined for an anonymous one (no token, or no subscriber key
   * configured: then tokens are not read at all). A presented token that fails is a 401 even when
   * anonymous subscribers are allowed.
   */
  async subscriber(req: IncomingMessage, url: URL): Promise<MercureClaims | undefined> {
    const verifier = this.options.verifiers.subscriber;
    if (verifier === undefined) return undefined;
    const found = this.token(req, url);
    if (found === undefined) return undefined;
    return mercureClaims(await verifier.verify(found.token), found.token, this.options.selectors);
  }

  private token(
    req: IncomingMessage,
    url: URL,
  ): { token: string; from: "header" | "query" | "cookie" } | undefined {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer ([^\s]+)$/i.exec(header.trim());
      if (match === null) {
        throw new AuthError(
          "unauthorized",
          "invalid_request",
          'the Authorization header must be "Bearer <token>"',
        );
      }
      return { token: match[1] as string, from: "header" };
    }
    const query = url.searchParams.get("authorization");
    if (query !== null && query !== "") return { token: query, from: "query" };
    const cookie = readCookie(req.headers.cookie, this.options.cookieName);
    if (cookie !== undefined && cookie !== "") return { token: cookie, from: "cookie" };
    return undefined;
  }

  private checkOrigin(req: IncomingMessage): void {
    let origin = req.headers.origin;
    if (origin === undefined || origin === "null") {
      const referer = req.headers.referer;
      if (referer === undefined) {
        throw invalidToken(
          'publishing with the cookie needs an "Origin" or "Referer" header (CSRF protection); or send the token in the Authorization header',
        );
      }
      try {
        origin = new URL(referer).origin;
      } catch {
        throw invalidToken("the Referer header is not a URL");
      }
    }
    const allowed = this.options.publishOrigins.map((o) => o.replace(/\/$/, ""));
    if (allowed.includes("*") || allowed.includes(origin.replace(/\/$/, ""))) return;
    throw new AuthError(
      "forbidden",
      "insufficient_scope",
      `origin ${JSON.stringify(origin)} may not publish with the cookie; add it to MERCURE_PUBLISH_ORIGINS`,
    );
  }
}
