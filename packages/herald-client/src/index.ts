/**
 * The Herald client SDK (`herald/client`): subscribe to topics with no gap across reconnects, and
 * publish from servers. Browser and Node 20+; no Node import. See docs/client.md.
 */
import { Subscription } from "./subscription.ts";
import type { SubscribeOptions } from "./types.ts";

export { Backoff } from "./backoff.ts";
export { parseJsonOrText } from "./parse.ts";
export { type PublishAnswer, type PublishOptions, publish } from "./publish.ts";
export { Subscription } from "./subscription.ts";
export { HeraldClientError } from "./transport.ts";
export * from "./types.ts";

/**
 * Subscribes to one or more topics and starts connecting at once.
 *
 * ```ts
 * const prices = subscribe<{ symbol: string; price: number }>({ url: "http://localhost:8080", topics: ["prices"] });
 * for await (const { data } of prices) console.log(data.symbol, data.price);
 * ```
 */
export function subscribe<T = unknown>(options: SubscribeOptions<T>): Subscription<T> {
  return new Subscription<T>(options);
}
