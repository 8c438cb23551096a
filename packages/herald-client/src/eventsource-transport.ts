import { STREAM_EVENT_TYPE } from "./topics.ts";
import {
  type ConnectionEnd,
  type ConnectRequest,
  errorFromResponse,
  HeraldClientError,
  type TransportHandlers,
} from "./transport.ts";
import type { EventSourceLike } from "./types.ts";
import { MISSED_EVENT_TYPE } from "./types.ts";

/**
 * The EventSource transport: the browser's native EventSource (or any class like it). It cannot send
 * headers, so the resume point goes in the `lastEventId` query parameter, which Herald reads when no
 * Last-Event-ID header is sent. The SDK does its own reconnecting: at the first error the
 * EventSource is closed and the connection counts as ended. It receives only the event types it
 * listens for: `message`, herald.missed and `eventTypes`. It cannot see `retry:` nor pause (no
 * backpressure). It cannot read a status either: when it fails before it ever opened, `probe` (fetch)
 * asks the same URL once, so a 4xx (bad topic, 401, 403) ends the subscription with Herald's message
 * instead of being retried forever.
 */
export function eventSourceTransport(
  EventSourceClass: EventSourceLike,
  eventTypes: readonly string[],
  probe?: typeof fetch,
) {
  return (request: ConnectRequest, handlers: TransportHandlers): Promise<ConnectionEnd> =>
    new Promise((resolve) => {
      const url = new URL(request.url);
      if (request.lastEventId !== undefined) url.searchParams.set("lastEventId", request.lastEventId);
      const source = new EventSourceClass(url.href, { withCredentials: request.withCredentials });
      let done = false;
      const finish = (end: ConnectionEnd) => {
        if (done) return;
        done = true;
        source.close();
        request.signal.removeEventListener("abort", onAbort);
        resolve(end);
      };
      const onAbort = () => finish({});
      request.signal.addEventListener("abort", onAbort);
      let opened = false;
      source.onopen = () => {
        opened = true;
        handlers.onOpen();
      };
      source.onerror = () => {
        const error = new HeraldClientError(`the EventSource connection to ${url.pathname} failed or ended`);
        source.close();
        if (opened || probe === undefined) finish({ error });
        else void probeStatus(probe, url, request).then((end) => finish(end ?? { error }));
      };
      for (const type of new Set(["message", MISSED_EVENT_TYPE, STREAM_EVENT_TYPE, ...eventTypes])) {
        source.addEventListener(type, (event: MessageEvent) => {
          handlers.onEvent({
            id: event.lastEventId === "" ? undefined : event.lastEventId,
            event: type,
            data: String(event.data),
          });
        });
      }
    });
}

/** Asks `url` once with fetch: a fatal 4xx becomes the end; anything else (or no answer) is undefined. */
async function probeStatus(
  probe: typeof fetch,
  url: URL,
  request: ConnectRequest,
): Promise<ConnectionEnd | undefined> {
  const controller = new AbortController();
  try {
    const response = await probe(url, {
      headers: { Accept: "text/event-stream" },
      credentials: request.withCredentials ? "include" : "same-origin",
      signal: controller.signal,
    });
    const status = response.status;
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      return { fatal: true, error: await errorFromResponse(response) };
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    controller.abort();
  }
}
