import { eventSourceTransport } from "./eventsource-transport.ts";
import { fetchTransport } from "./fetch-transport.ts";
import type { Transport } from "./transport.ts";
import type { EventSourceLike, SubscribeOptions } from "./types.ts";

/**
 * Picks the transport of a subscription. "auto": the EventSource class (the browser's, or
 * `options.EventSource`) when there is one and no token or header must be sent; else fetch.
 * Throws a TypeError naming the fix when the asked-for transport cannot work here.
 */
export function chooseTransport<T>(options: SubscribeOptions<T>): Transport {
  const kind = options.transport ?? "auto";
  const EventSourceClass =
    options.EventSource ?? (globalThis as unknown as { EventSource?: EventSourceLike }).EventSource;
  const needsHeaders = options.token !== undefined || options.headers !== undefined;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  if (kind === "eventsource" || (kind === "auto" && EventSourceClass !== undefined && !needsHeaders)) {
    if (EventSourceClass === undefined) {
      throw new TypeError(
        'subscribe: transport "eventsource" needs an EventSource class: pass options.EventSource',
      );
    }
    if (needsHeaders) {
      throw new TypeError('subscribe: transport "eventsource" cannot send a token or headers; use "fetch"');
    }
    return eventSourceTransport(EventSourceClass, options.eventTypes ?? [], fetchImpl?.bind(globalThis));
  }
  if (fetchImpl === undefined) throw new TypeError("subscribe: no fetch here; pass options.fetch");
  return fetchTransport(fetchImpl.bind(globalThis));
}
