import { AuthError } from "../core/auth.ts";
import { badRequest } from "../core/errors.ts";

/**
 * Topics under `/.well-known/mercure` are the hub's own: subscription events are published there.
 * No publisher, on any API, may publish to them, or it could forge those events. As the Mercure
 * 1.0 spec says ("Publication"), the topic is resolved as a URL reference (so
 * `https://x/.well-known/mercure/...` counts whatever the scheme and host), its dot segments
 * removed and its percent-encoded unreserved characters decoded (`/.well-known/%6Dercure/...`
 * counts too). A topic that is not a URL reference is not reserved.
 */
const MAYBE_RESERVED = /well|%|[\t\n\r]/i;

export function isReservedTopic(topic: string): boolean {
  // The URL parser keeps "well" as written unless it is percent-encoded (it drops only tabs and
  // line breaks), so a topic with none of these cannot resolve to the reserved path.
  if (!MAYBE_RESERVED.test(topic)) return false;
  let path: string;
  try {
    path = new URL(topic, "http://hub.invalid/").pathname;
    if (path.includes("%")) {
      // decode unreserved characters, then let the parser remove the dot segments they may form
      const decoded = path.replace(/%([0-9A-Fa-f]{2})/g, (encoded, hex: string) => {
        const c = String.fromCharCode(Number.parseInt(hex, 16));
        return /[A-Za-z0-9\-._~]/.test(c) ? c : encoded;
      });
      path = new URL(decoded, "http://hub.invalid/").pathname;
    }
  } catch {
    return false;
  }
  return path === "/.well-known/mercure" || path.startsWith("/.well-known/mercure/");
}

/**
 * Throws when any topic is reserved: 403 `insufficient_scope` (Herald's API, Mercure 0.x), or 400
 * for a Mercure 1.0 publish (`status: 400`, as the 1.0 spec asks). Every publish route calls this.
 */
export function refuseReservedTopics(topics: readonly string[], status: 400 | 403 = 403): void {
  for (const topic of topics) {
    if (isReservedTopic(topic)) {
      const message = `topic ${JSON.stringify(topic)} is in /.well-known/mercure, which only the hub publishes to`;
      if (status === 400) throw badRequest(message);
      throw new AuthError("forbidden", "insufficient_scope", message);
    }
  }
}
