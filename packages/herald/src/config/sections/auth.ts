import { bool, cookieName, duration, hmacSecret, list, sameSite, text, url } from "../kinds.ts";
import type { Settings } from "../setting.ts";

/** Authorization: the key that verifies tokens, anonymous access, private topics, the cookie (docs/auth.md). */
export const AUTH = {
  jwtSecret: {
    flag: "jwt-secret",
    env: "HERALD_JWT_SECRET",
    kind: hmacSecret,
    default: "",
    help: "HS256 secret verifying tokens; with no key at all, a random one is made at start and a token printed",
  },
  jwtPublicKey: {
    flag: "jwt-public-key",
    env: "HERALD_JWT_PUBLIC_KEY",
    kind: text,
    default: "",
    help: "RSA (RS256) or EC (ES256) public key verifying tokens: PEM text or the path of a PEM file",
  },
  jwksUrl: {
    flag: "jwks-url",
    env: "HERALD_JWKS_URL",
    kind: url,
    default: "",
    help: "JWKS URL whose keys verify tokens (cached; an unknown kid fetches it again: key rotation; user:password@ is sent as Basic auth)",
  },
  jwtIssuer: {
    flag: "jwt-issuer",
    env: "HERALD_JWT_ISSUER",
    kind: text,
    default: "",
    help: "required iss claim of tokens; empty = not checked",
  },
  jwtAudience: {
    flag: "jwt-audience",
    env: "HERALD_JWT_AUDIENCE",
    kind: text,
    default: "",
    help: "required aud claim of tokens; empty = not checked",
  },
  jwtLeewayMs: {
    flag: "jwt-leeway",
    env: "HERALD_JWT_LEEWAY",
    kind: duration(1000, "zero"),
    default: "0s",
    help: "clock skew tolerated on exp and nbf",
  },
  jwksCacheMs: {
    flag: "jwks-cache",
    env: "HERALD_JWKS_CACHE",
    kind: duration(1000, "zero"),
    default: "10m",
    help: "how long fetched JWKS keys are used before fetching the JWKS again",
  },
  jwksCooldownMs: {
    flag: "jwks-cooldown",
    env: "HERALD_JWKS_COOLDOWN",
    kind: duration(1000, "zero"),
    default: "30s",
    help: "shortest time between two JWKS fetches caused by unknown key ids",
  },
  allowAnonymousPublish: {
    flag: "allow-anonymous-publish",
    env: "HERALD_ALLOW_ANONYMOUS_PUBLISH",
    kind: bool,
    default: "false",
    help: "let requests without a token publish to any topic (UNSAFE outside development)",
  },
  allowAnonymousSubscribe: {
    flag: "allow-anonymous-subscribe",
    env: "HERALD_ALLOW_ANONYMOUS_SUBSCRIBE",
    kind: bool,
    default: "true",
    help: "let clients without a token receive public events (false = every stream needs a token)",
  },
  privateTopics: {
    flag: "private-topics",
    env: "HERALD_PRIVATE_TOPICS",
    kind: list,
    default: "",
    help: "comma-separated topic selectors whose events are always private (e.g. users/*,billing)",
  },
  authCookie: {
    flag: "auth-cookie",
    env: "HERALD_AUTH_COOKIE",
    kind: cookieName,
    default: "heraldAuthorization",
    help: "name of the cookie holding a subscriber token (set by POST /auth/cookie or by your app)",
  },
  cookieSameSite: {
    flag: "cookie-samesite",
    env: "HERALD_COOKIE_SAMESITE",
    kind: sameSite,
    default: "Strict",
    help: "SameSite attribute of the cookie POST /auth/cookie sets: Strict, Lax or None (None implies Secure)",
  },
} satisfies Settings;
