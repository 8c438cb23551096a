/** What a transport reports while one connection lives. Called in stream order. */
export interface TransportHandlers {
  /**
   * The server accepted the stream (200, text/event-stream). `standsAt`: the hub's `Last-Event-ID`
   * response header, sent to a live-only subscriber: where it can resume from before its first event.
   */
  onOpen(standsAt?: string): void;
  /** One parsed event; `event` undefined means `message`. */
  onEvent(event: { id?: string | undefined; event?: string | undefined; data: string }): void;
  /** The server's `retry:` field. */
  onRetry(ms: number): void;
  /** A comment line (without its colon and the space after it): fetch transport only. */
  onComment?(text: string): void;
  /** Resolves when the application has room for more events (backpressure for transports that can pause). */
  room(): Promise<void>;
}

/** How one connection ended. `fatal`: retrying cannot help (400, 401, 403, 404, wrong content type). */
export interface ConnectionEnd {
  readonly error?: Error | undefined;
  readonly fatal?: boolean | undefined;
  /** The server's Retry-After, in ms, when it sent one. */
  readonly retryAfterMs?: number | undefined;
}

export interface ConnectRequest {
  /** The full `/events` URL with its topic parameters. */
  readonly url: URL;
  readonly lastEventId: string | undefined;
  readonly token: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly withCredentials: boolean;
  readonly idleTimeoutMs: number;
  /** Aborted when the subscription closes: the connection ends at once. */
  readonly signal: AbortSignal;
}

/**
 * One connection attempt: resolves when the stream has ended, for whatever reason (never rejects).
 * The subscription decides whether and when to reconnect.
 */
export type Transport = (request: ConnectRequest, handlers: TransportHandlers) => Promise<ConnectionEnd>;

/** An Error with the HTTP status that caused it (0 when there was no answer). */
export class HeraldClientError extends Error {
  override readonly name = "HeraldClientError";
  constructor(
    message: string,
    readonly status = 0,
    /** Herald's error code from the body (`bad_request`, `unauthorized`, ...), when it sent one. */
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Herald answers errors as `{"error": code, "message": text}`; the message says how to fix it. */
export async function errorFromResponse(response: Response): Promise<HeraldClientError> {
  let text = "";
  try {
    text = await response.text();
  } catch {
    // the body is only for the message
  }
  let code: string | undefined;
  let message = text.slice(0, 500) || response.statusText;
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    if (typeof body.error === "string") code = body.error;
    if (typeof body.message === "string") message = body.message;
  } catch {
    // not JSON: keep the text
  }
  return new HeraldClientError(`Herald answered ${response.status}: ${message}`, response.status, code);
}
