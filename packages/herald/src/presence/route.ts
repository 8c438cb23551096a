import type { IncomingMessage } from "node:http";
import { AuthError, type Principal } from "../core/auth.ts";
import { badRequest, HeraldError } from "../core/errors.ts";
import { type PublishLimits, validateTopic } from "../core/event.ts";
import { anySelectorMatches, selectorGrants, type TopicSelector } from "../core/topic.ts";
import { sendJson } from "../http/errors.ts";
import type { Handler } from "../http/router.ts";
import { queryValues } from "../http/sse/request.ts";
import type { Presence } from "./presence.ts";

export interface PresenceRouteOptions {
  /** Undefined when `--presence` is empty: every topic answers 404. */
  readonly presence: Presence | undefined;
  /** Who asks (the token's principal, or anonymous; 401 when anonymous subscribers are refused). */
  readonly principal: (req: IncomingMessage) => Promise<Principal>;
  /** `--allow-anonymous-subscribe`: then anyone who may subscribe may read presence. */
  readonly allowAnonymousSubscribe: boolean;
  /** `--private-topics`: who is on such a topic is read only with a token that grants it. */
  readonly privateTopics: readonly TopicSelector[];
  /** The topic is checked as a subscription's is (length, control characters). */
  readonly limits: PublishLimits;
}

/**
 * `GET /presence?topic=T`: `{topic, count, subscribers}` for the whole cluster (docs/presence.md).
 * Who may read it: a token whose subscribe or publish claim grants T (`selectorGrants`: `*`
 * included for an ordinary topic); anyone at all when anonymous subscribers are allowed (the
 * default: whoever may watch T may see who else does), except on a topic of `--private-topics`,
 * whose subscribers only a token granting it may list. A topic that begins with `$` (the hub's
 * reserved topics, or an app's private `$...` namespace) needs a selector that itself begins with
 * `$` and covers it, as subscribing to its private events does: never `*`, never anonymous.
 * Otherwise 401 without a token, 403 with one (checked before the 404, so a refusal says nothing
 * of whether presence is on). 400 without `topic`, with several, or with one `GET /events` would
 * refuse (too long, control characters); 404 when presence is not on for T (`--presence`).
 */
export function presenceRoute(options: PresenceRouteOptions): Handler {
  return async (req, res, url) => {
    const topics = queryValues(url, "topic");
    if (topics.length === 0 || topics[0] === "") {
      throw badRequest("the topic is missing: GET /presence?topic=<name>");
    }
    if (topics.length > 1) {
      throw badRequest(`GET /presence reads one topic, got ${topics.length}: ask once per topic`);
    }
    const topic = validateTopic(topics[0], options.limits);
    const principal = await options.principal(req);
    const reserved = topic.charCodeAt(0) === 36; // "$"
    const open = !reserved && !anySelectorMatches(options.privateTopics, [topic]);
    const allowed =
      (options.allowAnonymousSubscribe && open) ||
      [...principal.subscribe, ...principal.publish].some((selector) => selectorGrants(selector, topic));
    if (!allowed) {
      if (principal.anonymous) {
        throw new AuthError(
          "unauthorized",
          undefined,
          reserved
            ? `reading the presence of ${JSON.stringify(topic)} needs a token whose subscribe claim names a selector beginning with "$" that covers it; present one with "Authorization: Bearer <token>"`
            : open
              ? 'reading presence needs a token; present one with "Authorization: Bearer <token>"'
              : `${JSON.stringify(topic)} is a private topic (--private-topics): reading its presence needs a token whose subscribe or publish claim grants it; present one with "Authorization: Bearer <token>"`,
        );
      }
      throw new AuthError(
        "forbidden",
        "insufficient_scope",
        reserved
          ? `this token may not read the presence of ${JSON.stringify(topic)}: a topic beginning with "$" is granted only by a selector that itself begins with "$" (e.g. ${JSON.stringify(topic)} or ${JSON.stringify(`${topic.split("/")[0]}/*`)}), never by "*"`
          : `this token may not read the presence of ${JSON.stringify(topic)}: its subscribe or publish claim must list a selector matching it`,
      );
    }
    const { presence } = options;
    if (presence === undefined || !presence.watches(topic)) {
      throw new HeraldError(
        "not_found",
        `presence is not on for topic ${JSON.stringify(topic)}: add a selector matching it to --presence (HERALD_PRESENCE)`,
      );
    }
    sendJson(res, 200, presence.view(topic), { "Cache-Control": "no-store" });
  };
}
