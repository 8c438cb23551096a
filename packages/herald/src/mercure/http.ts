import type { ServerResponse } from "node:http";
import { AuthError } from "../core/auth.ts";
import { errorHeaders, STATUS_OF, sendBody, toHeraldError } from "../http/errors.ts";
import type { Logger } from "../ops/logger.ts";
import type { HubIdentity } from "./v1/identity.ts";

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
 * text (Mercure clients read the status; people read the text), and on auth errors an RFC 6750
 * challenge (spec "Error Responses"): `Bearer resource_metadata="..."` when no token was
 * presented, `Bearer error="invalid_token" | "insufficient_scope" | "invalid_request",
 * error_description="...", resource_metadata="..."` otherwise (`resource_metadata`: RFC 9728).
 */
export function sendMercureError(
  res: ServerResponse,
  error: unknown,
  log: Logger,
  identity?: HubIdentity,
): void {
  const herald = toHeraldError(error);
  if (herald.code === "internal") log.error({ err: error }, "mercure request failed");
  const headers = errorHeaders(herald);
  if (herald instanceof AuthError && identity !== undefined) {
    headers["WWW-Authenticate"] = bearerChallenge(herald, identity.metadataUrl);
  }
  sendText(res, STATUS_OF[herald.code], `${herald.message}\n`, headers);
}

/** The RFC 6750 challenge of `error`, with the RFC 9728 `resource_metadata` parameter. */
export function bearerChallenge(error: AuthError, metadataUrl: string): string {
  const params: string[] = [];
  if (error.bearerError !== undefined) {
    params.push(`error="${error.bearerError}"`, `error_description="${quotable(error.description)}"`);
  }
  params.push(`resource_metadata="${quotable(metadataUrl)}"`);
  return `Bearer ${params.join(", ")}`;
}

// RFC 6750: error_description is printable ASCII without `"` and `\`.
function quotable(text: string): string {
  return text.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, "?");
}
