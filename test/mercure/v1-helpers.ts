import { type JWTPayload, SignJWT } from "jose";
import type { HeraldConfig } from "../../packages/herald/src/config/settings.ts";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { startTestHerald } from "../helpers/herald.ts";
import { SECRET } from "./helpers.ts";

export const ISSUER = "https://issuer.test";
export const DETAIL = "https://mercure.rocks/authorization-detail";

/** Herald in Mercure 1.0 mode (the default): a key bound to ISSUER, anonymous subscribers allowed. */
export function startModernHerald(overrides: Partial<HeraldConfig> = {}): Promise<Herald> {
  return startTestHerald({
    mercureJwtKey: SECRET,
    mercureIssuer: ISSUER,
    mercureAnonymous: true,
    ...overrides,
  });
}

/** The resource identifier Herald derives for a request to `baseUrl`. */
export const resourceOf = (baseUrl: string): string => `${baseUrl}/.well-known/mercure`;

/** An authorization detail granting `actions` on `topics` (exact unless `{match, match_type}`). */
export function detail(
  actions: string[],
  topics: (string | { match: string; match_type?: string })[],
  payload?: unknown,
): Record<string, unknown> {
  return {
    type: DETAIL,
    actions,
    topics: topics.map((t) => (typeof t === "string" ? { match: t } : t)),
    ...(payload === undefined ? {} : { payload }),
  };
}

export interface AccessTokenOptions {
  audience?: string | string[];
  issuer?: string;
  typ?: string | undefined;
  /** Seconds from now; `null` = no exp claim. */
  expiresIn?: number | null;
  secret?: string;
  extra?: JWTPayload;
  sub?: string;
}

/** A Mercure 1.0 access token (RFC 9068: typ at+jwt, iss, aud, exp) carrying `details`. */
export function accessToken(
  audience: string,
  details: unknown[] | undefined,
  options: AccessTokenOptions = {},
): Promise<string> {
  const claims: JWTPayload = { ...options.extra };
  if (details !== undefined) claims.authorization_details = details;
  let jwt = new SignJWT(claims)
    .setProtectedHeader({
      alg: "HS256",
      ...(options.typ === undefined && "typ" in options ? {} : { typ: options.typ ?? "at+jwt" }),
    })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? audience)
    .setSubject(options.sub ?? "urn:test:client")
    .setIssuedAt()
    .setJti(crypto.randomUUID());
  if (options.expiresIn !== null)
    jwt = jwt.setExpirationTime(Math.floor(Date.now() / 1000) + (options.expiresIn ?? 3600));
  return jwt.sign(new TextEncoder().encode(options.secret ?? SECRET));
}
