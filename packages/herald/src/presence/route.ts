import type { IncomingMessage } from "node:http";
import { AuthError, type Principal } from "../core/auth.ts";
import { badRequest, HeraldError } from "../core/errors.ts";
import { selectorMatches } from "../core/topic.ts";
import { sendJson } from "../http/errors.ts";
import type { Handler } from "../http/router.ts";
import type { Presence } from "./presence.ts";

export interface PresenceRouteOptions {
  /** Undefined when `--presence` is empty: every topic answers 404. */
  readonly presence: Presence | undefined;
  /** Who asks (the token's principal, or anonymous; 401 when anonymous subscribers are refused). */
  readonly principal: (req: IncomingMessage) => Promise<Principal>;
  /** `--allow-anonymous-subscribe`: then anyone who may subscribe may read presence. */
  readonly allowAnonymousSubscribe: boolean;
}

/**
 * `GET /presence?topic=T`: `{topic, count, subscribers}` for the whole cluster (docs/presence.md).
 * Who may read it: a token whose subscribe or publish claim matches T (`*` included: this is T's
 * presence, not its reserved `$presence/T` events); anyone at all when anonymous subscribers are
 * allowed (the default: whoever may watch T may see who else does). Otherwise 401 without a
 * token, 403 with one. 400 without `topic`; 404 when presence is not on for T (`--presence`).
 */
export function presenceRoute(options: PresenceRouteOptions): Handler {
  return async (req, res, url) => {
    const topic = url.searchParams.get("topic");
    if (topic === null || topic === "") {
      throw badRequest("the topic is missing: GET /presence?topic=<name>");
    }
    const principal = await options.principal(req);
    const allowed =
      options.allowAnonymousSubscribe ||
      [...principal.subscribe, ...principal.publish].some((selector) => selectorMatches(selector, topic));
    if (!allowed) {
      if (principal.anonymous) {
        throw new AuthError(
          "unauthorized",
          undefined,
          'reading presence needs a token; present one with "Authorization: Bearer <token>"',
        );
      }
      throw new AuthError(
        "forbidden",
        "insufficient_scope",
        `this token may not read the presence of ${JSON.stringify(topic)}: its subscribe or publish claim must list a selector matching it`,
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
