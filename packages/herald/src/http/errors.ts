import type { ServerResponse } from "node:http";
import { AuthError } from "../core/auth.ts";
import { HeraldError, type HeraldErrorCode } from "../core/errors.ts";

/** The one map from error codes to HTTP statuses. */
export const STATUS_OF: Record<HeraldErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  misdirected: 421,
  payload_too_large: 413,
  expectation_failed: 417,
  unsupported_media_type: 415,
  headers_too_large: 431,
  too_many_requests: 429,
  internal: 500,
  not_implemented: 501,
  unavailable: 503,
};

export function toHeraldError(error: unknown): HeraldError {
  if (error instanceof HeraldError) return error;
  return new HeraldError("internal", "internal error; see the server log", { cause: error });
}

/**
 * Answers `status` with `body` (never cached). When the headers are already sent (a stream had
 * begun), the response is destroyed instead: the client sees the connection end.
 */
export function sendBody(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers?: Record<string, string>,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const length = Buffer.byteLength(body);
  res.writeHead(
    status,
    // one object, not a copy of an empty one (the publish hot path has no extra header)
    headers === undefined
      ? { "Content-Type": contentType, "Content-Length": length, "Cache-Control": "no-store" }
      : { ...headers, "Content-Type": contentType, "Content-Length": length, "Cache-Control": "no-store" },
  );
  res.end(body);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Record<string, string>,
): void {
  sendBody(res, status, "application/json; charset=utf-8", JSON.stringify(body), headers);
}

/** The headers an error adds to `headers`: `Retry-After` when it has one, `WWW-Authenticate` on auth errors. */
export function errorHeaders(
  error: HeraldError,
  headers: Record<string, string> = {},
): Record<string, string> {
  const extra = { ...headers };
  if (error.retryAfterSeconds !== undefined) extra["Retry-After"] = String(error.retryAfterSeconds);
  if (error instanceof AuthError) extra["WWW-Authenticate"] = error.challenge;
  return extra;
}

/** Herald's error body: `{"error": "<code>", "message": "<what is wrong and how to fix it>"}`. */
export function sendError(
  res: ServerResponse,
  error: HeraldError,
  headers: Record<string, string> = {},
): void {
  sendJson(
    res,
    STATUS_OF[error.code],
    { error: error.code, message: error.message },
    errorHeaders(error, headers),
  );
}
