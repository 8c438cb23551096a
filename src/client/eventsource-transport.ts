import {
  type ConnectionEnd,
  type ConnectRequest,
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
 * listens for: `message`, herald.missed and `eventTypes`. It cannot see `retry:` or read a 4xx
 * status, so it never ends fatally; it cannot pause either (no backpressure).
 */
export function eventSourceTransport(EventSourceClass: EventSourceLike, eventTypes: readonly string[]) {
  return (request: ConnectRequest, handlers: TransportHandlers): Promise<ConnectionEnd> =>
    new Promise((resolve) => {
      const url = new URL(request.url);
      if (request.lastEventId !== undefined) url.searchParams.set("lastEventId", request.lastEventId);
      const source = new EventSourceClass(url.href, { withCredentials: request.withCredentials });
      const finish = (end: ConnectionEnd) => {
        source.close();
        request.signal.removeEventListener("abort", onAbort);
        resolve(end);
      };
      const onAbort = () => finish({});
      request.signal.addEventListener("abort", onAbort);
      source.onopen = () => handlers.onOpen();
      source.onerror = () =>
        finish({
          error: new HeraldClientError(`the EventSource connection to ${url.pathname} failed or ended`),
        });
      for (const type of new Set(["message", MISSED_EVENT_TYPE, ...eventTypes])) {
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
