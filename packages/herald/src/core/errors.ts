/**
 * The one error type of Herald. `code` says what went wrong; the server maps each code to an HTTP
 * status in one place (src/server/http-errors.ts). Messages say what was wrong and how to fix it.
 */
export type HeraldErrorCode =
  | "bad_request" // input is malformed or breaks a rule; the message names the field
  | "unsupported_media_type" // body is not in an accepted Content-Type
  | "payload_too_large" // body or event above a configured limit
  | "not_found"
  | "method_not_allowed"
  | "misdirected" // the request reached a server that does not answer for its origin (Mercure's public URLs)
  | "unauthorized" // no or bad credentials
  | "forbidden" // credentials fine, action not allowed
  | "too_many_requests" // a rate or connection limit was hit
  | "expectation_failed" // an Expect header other than 100-continue
  | "request_timeout" // the request did not arrive in time (HERALD_HEADERS_TIMEOUT, HERALD_REQUEST_TIMEOUT)
  | "headers_too_large" // request headers over node:http's limit
  | "not_implemented" // a request framing Herald does not support (a Transfer-Encoding other than chunked)
  | "unavailable" // shutting down, or the bus cannot store events right now
  | "internal";

export class HeraldError extends Error {
  override readonly name = "HeraldError";
  constructor(
    readonly code: HeraldErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
  readonly retryAfterSeconds: number | undefined;
}

export const badRequest = (message: string): HeraldError => new HeraldError("bad_request", message);
