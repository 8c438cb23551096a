import { AuthError } from "../core/auth.ts";

/**
 * Topics under `/.well-known/mercure` (resolved as a URL path, so `https://x/.well-known/mercure/...`
 * counts too) are the hub's own: subscription events are published there. No publisher, on any API,
 * may publish to them, or it could forge those events.
 */
const MAYBE_RESERVED = /well-known|[\t\n\r]/i;

export function isReservedTopic(topic: string): boolean {
  // The URL parser keeps "well-known" as written (it drops only tabs and line breaks, and decodes
  // no escapes but `%2e` dot segments), so a topic with neither cannot resolve to the reserved path.
  if (!MAYBE_RESERVED.test(topic)) return false;
  let path: string;
  try {
    path = new URL(topic, "http://hub.invalid/").pathname;
  } catch {
    return false;
  }
  return path === "/.well-known/mercure" || path.startsWith("/.well-known/mercure/");
}

/** Throws 403 when any topic is reserved. Every publish route calls this. */
export function refuseReservedTopics(topics: readonly string[]): void {
  for (const topic of topics) {
    if (isReservedTopic(topic)) {
      throw new AuthError(
        "forbidden",
        "insufficient_scope",
        `topic ${JSON.stringify(topic)} is in /.well-known/mercure, which only the hub publishes to`,
      );
    }
  }
}
