import { AuthError } from "../core/auth.ts";
import { badRequest } from "../core/errors.ts";
import { PRESENCE_PREFIX } from "../presence/reserved.ts";

/**
 * Topics under `/.well-known/mercure` are the hub's own: subscription events are published there.
 * No publisher, on any API, may publish to them, or it could forge those events. As the Mercure
 * 1.0 spec says ("Publication"), the topic is resolved as a URL reference against the hub's URL
 * (so `https://x/.well-known/mercure/...` counts whatever the scheme and host, and so do the
 * relative `mercure/subscriptions/...`, `?x` and the empty topic, which resolve to the hub's URL or
 * under it), its dot segments removed and its percent-encoded unreserved characters decoded
 * (`/.well-known/%6Dercure/...` counts too). A topic that is not a URL reference is not reserved.
 * The hub's scheme is not known here: a topic reserved against `http:` or `https:` counts
 * (`https:mercure` is relative to an https hub).
 */
export function isReservedTopic(topic: string): boolean {
  return mayResolveIntoHub(topic) && HUB_URLS.some((hub) => underHub(topic, hub));
}

/** The hub's URL as topics are resolved against it; its path is the one Mercure reserves. */
const HUB_PATH = "/.well-known/mercure";
const HUB_URLS = [`http://hub.invalid${HUB_PATH}`, `https://hub.invalid${HUB_PATH}`];

const MAYBE_RESERVED = /well|%|[\t\n\r]/i;
/** What the URL parser strips first (C0 controls and spaces at either end), then a scheme relative to a special base. */
const TRAILING = /[\0- ]+$/;
const LEADING = /^[\0- ]*(?:https?:)?/i;

/**
 * False when `topic` cannot resolve to the reserved path, without the URL parser (every publish
 * asks). The parser keeps "well" as written unless it is percent-encoded (it drops only tabs and
 * line breaks), so a topic without these reaches `/.well-known/` only as a relative-path
 * reference, which resolves in the hub's directory: to the hub's URL when it has no path (empty,
 * `?...`, `#...`), else under `/.well-known/`, reserved only if it spells `mercure`.
 */
function mayResolveIntoHub(topic: string): boolean {
  if (MAYBE_RESERVED.test(topic)) return true;
  const rest = topic.replace(TRAILING, "").replace(LEADING, "");
  if (rest === "" || rest[0] === "?" || rest[0] === "#") return true;
  if (rest[0] === "/" || rest[0] === "\\") return false; // path-absolute or another host
  return rest.includes("mercure");
}

function underHub(topic: string, hub: string): boolean {
  let path: string;
  try {
    const url = new URL(topic, hub);
    // another scheme (`urn:...`) has its own paths, opaque ones included: never the hub's
    if (url.protocol !== "http:" && url.protocol !== "https:") return false;
    path = url.pathname;
    // decode unreserved characters, then let the parser remove the dot segments they may form
    const decoded = path.replace(/%([0-9A-Fa-f]{2})/g, (encoded, hex: string) => {
      const c = String.fromCharCode(Number.parseInt(hex, 16));
      return /[A-Za-z0-9\-._~]/.test(c) ? c : encoded;
    });
    if (decoded !== path) path = new URL(decoded, hub).pathname;
  } catch {
    return false;
  }
  return path === HUB_PATH || path.startsWith(`${HUB_PATH}/`);
}

/**
 * Topics under `$presence/` are the hub's own too: presence's join and leave events
 * (presence/reserved.ts).
 */
export function isPresenceTopic(topic: string): boolean {
  return topic.startsWith(PRESENCE_PREFIX);
}

/**
 * Throws when any topic is reserved: 403 `insufficient_scope` (Herald's API, Mercure 0.x), or 400
 * for a Mercure 1.0 publish (`status: 400`, as the 1.0 spec asks). Every publish route calls this.
 */
export function refuseReservedTopics(topics: readonly string[], status: 400 | 403 = 403): void {
  for (const topic of topics) {
    if (isPresenceTopic(topic)) {
      const message = `topic ${JSON.stringify(topic)} is under ${PRESENCE_PREFIX}, where only the hub publishes (presence's join and leave events)`;
      if (status === 400) throw badRequest(message);
      throw new AuthError("forbidden", "insufficient_scope", message);
    }
    if (isReservedTopic(topic)) {
      const message = `topic ${JSON.stringify(topic)} is in /.well-known/mercure, which only the hub publishes to (topics resolve against the hub's URL: a relative one such as "mercure/x" lands there, an empty one is the hub's URL itself); name the topic with an absolute URL or a name outside it`;
      if (status === 400) throw badRequest(message);
      throw new AuthError("forbidden", "insufficient_scope", message);
    }
  }
}
