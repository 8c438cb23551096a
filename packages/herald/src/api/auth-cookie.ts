import type { IncomingMessage, ServerResponse } from "node:http";
import { bearerToken } from "../access/request-access.ts";
import type { HeraldConfig } from "../config/settings.ts";
import type { Authorizer } from "../core/auth.ts";
import { missingToken } from "../core/auth.ts";
import { isSecure } from "../http/client-ip.ts";
import { serializeCookie } from "../http/cookies.ts";

/** The settings the cookie routes read. */
export type CookieOptions = Pick<HeraldConfig, "authCookie" | "cookieSameSite">;

/**
 * `POST /auth/cookie` with `Authorization: Bearer <subscriber token>`: verifies the token and sets
 * it as the HttpOnly cookie streams read (browsers cannot put headers on EventSource). 204, with
 * Max-Age up to the token's `exp`. `DELETE /auth/cookie` removes it. Taking the token from a header
 * (not a form field) means a cross-site page cannot plant its own token (a simple form cannot set it).
 */
export async function handleSetCookie(
  authorizer: Authorizer,
  options: CookieOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const token = bearerToken(req);
  if (token === undefined) throw missingToken('send the subscriber token as "Authorization: Bearer <token>"');
  const principal = await authorizer.authenticate(token);
  const maxAgeSec =
    principal.expiresAt === undefined ? undefined : Math.floor((principal.expiresAt - Date.now()) / 1000);
  res.writeHead(204, {
    "Set-Cookie": serializeCookie(options.authCookie, token, {
      sameSite: options.cookieSameSite,
      secure: isSecure(req),
      maxAgeSec,
    }),
    "Cache-Control": "no-store",
  });
  res.end();
}

export function handleDeleteCookie(options: CookieOptions, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(204, {
    "Set-Cookie": serializeCookie(options.authCookie, "", {
      sameSite: options.cookieSameSite,
      secure: isSecure(req),
      maxAgeSec: 0,
    }),
    "Cache-Control": "no-store",
  });
  res.end();
}
