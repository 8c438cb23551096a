import type { ServerResponse } from "node:http";
import { AuthError } from "../../core/auth.ts";
import { STATUS_OF, toHeraldError } from "../http-errors.ts";
import type { Logger } from "../logger.ts";

/** A `text/plain` answer, as the Mercure hub gives them (publish ids, errors). */
export function sendText(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    ...headers,
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
  });
  res.end(body);
}

/**
 * Answers an error on a Mercure route: the status from Herald's one code map, the message as plain
 * text (Mercure clients read the status; people read the text), `WWW-Authenticate` on auth errors.
 */
export function sendMercureError(res: ServerResponse, error: unknown, log: Logger): void {
  const herald = toHeraldError(error);
  if (herald.code === "internal") log.error({ err: error }, "mercure request failed");
  const headers: Record<string, string> = {};
  if (error instanceof AuthError) headers["WWW-Authenticate"] = error.challenge;
  if (herald.retryAfterSeconds !== undefined) headers["Retry-After"] = String(herald.retryAfterSeconds);
  sendText(res, STATUS_OF[herald.code], `${herald.message}\n`, headers);
}
