import { createParser } from "eventsource-parser";
import {
  type ConnectionEnd,
  type ConnectRequest,
  errorFromResponse,
  HeraldClientError,
  type TransportHandlers,
} from "./transport.ts";

/** Largest event the parser buffers (8 MiB of text); a bigger one ends the connection. */
const MAX_EVENT_CHARS = 8 * 1024 * 1024;

/**
 * The fetch transport: `GET /events` with fetch, the body decoded as UTF-8 (a character split
 * across chunks is joined) and parsed by eventsource-parser. Sends `Last-Event-ID` and
 * `Authorization: Bearer` headers, so it is used whenever a token is given and in Node.
 *
 * Backpressure: after each chunk it waits for `handlers.room()`; a stream it does not read fills up
 * on the hub, which then cuts it off as a slow client; the subscription resumes from its last id.
 */
export function fetchTransport(fetchImpl: typeof fetch) {
  return async (request: ConnectRequest, handlers: TransportHandlers): Promise<ConnectionEnd> => {
    const controller = new AbortController();
    const abort = () => controller.abort();
    request.signal.addEventListener("abort", abort);
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    let idled = false;
    const touch = () => {
      if (request.idleTimeoutMs <= 0) return;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        idled = true;
        controller.abort();
      }, request.idleTimeoutMs);
    };
    try {
      const headers: Record<string, string> = {
        ...request.headers,
        Accept: "text/event-stream",
        "Cache-Control": "no-cache",
      };
      if (request.lastEventId !== undefined) headers["Last-Event-ID"] = request.lastEventId;
      if (request.token !== undefined) headers.Authorization = `Bearer ${request.token}`;
      touch();
      const response = await fetchImpl(request.url, {
        headers,
        signal: controller.signal,
        cache: "no-store",
        credentials: request.withCredentials ? "include" : "same-origin",
      });
      if (!response.ok) return await failure(response);
      const type = response.headers.get("content-type") ?? "";
      if (!type.startsWith("text/event-stream") || response.body === null) {
        await response.body?.cancel();
        return {
          fatal: true,
          error: new HeraldClientError(
            `expected text/event-stream from ${request.url.pathname}, got "${type}": is the URL Herald's?`,
            response.status,
          ),
        };
      }
      handlers.onOpen(response.headers.get("last-event-id") ?? undefined);
      let parseError: Error | undefined;
      const parser = createParser({
        onEvent: (event) => handlers.onEvent(event),
        onRetry: (ms) => handlers.onRetry(ms),
        onComment: handlers.onComment && ((text) => handlers.onComment?.(text)),
        onError: (error) => {
          if (error.type === "max-buffer-size-exceeded") parseError = error;
        },
        maxBufferSize: MAX_EVENT_CHARS,
      });
      const decoder = new TextDecoder();
      const reader = response.body.getReader();
      try {
        for (;;) {
          touch();
          const { done, value } = await reader.read();
          if (done) break;
          parser.feed(decoder.decode(value, { stream: true }));
          if (parseError !== undefined) {
            await reader.cancel();
            return { error: parseError };
          }
          await handlers.room();
        }
      } finally {
        reader.releaseLock();
      }
      return { error: new HeraldClientError("the stream ended", response.status) };
    } catch (error) {
      if (idled) return { error: new HeraldClientError(`no data for ${request.idleTimeoutMs} ms`) };
      if (request.signal.aborted) return {};
      return {
        error: new HeraldClientError(`cannot reach Herald: ${(error as Error).message}`, 0, undefined, {
          cause: error,
        }),
      };
    } finally {
      clearTimeout(idleTimer);
      request.signal.removeEventListener("abort", abort);
      controller.abort();
    }
  };
}

/** A non-2xx answer: 4xx (but 408/429) is fatal, the rest is retried (honouring Retry-After). */
async function failure(response: Response): Promise<ConnectionEnd> {
  const error = await errorFromResponse(response);
  const status = response.status;
  const fatal = status >= 400 && status < 500 && status !== 408 && status !== 429;
  const retryAfter = Number(response.headers.get("retry-after"));
  return {
    fatal,
    error,
    retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
  };
}
