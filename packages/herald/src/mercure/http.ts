import type { ServerResponse } from "node:http";
import { errorHeaders, STATUS_OF, sendBody, toHeraldError } from "../http/errors.ts";
import type { Logger } from "../ops/logger.ts";

/** A `text/plain` answer, as the Mercure hub gives them (publish ids, errors). */
export function sendText(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  sendBody(res, status, "text/plain; charset=utf-8", body, headers);
}

/**
 * Answers an error on a Mercure route: the status from Herald's one code map, the message as plain
 * text (Mercure clients read the status; people read the text), `WWW-Authenticate` on auth errors.
 */
export function sendMercureError(res: ServerResponse, error: unknown, log: Logger): void {
  const herald = toHeraldError(error);
  if (herald.code === "internal") log.error({ err: error }, "mercure request failed");
  sendText(res, STATUS_OF[herald.code], `${herald.message}\n`, errorHeaders(herald));
}
