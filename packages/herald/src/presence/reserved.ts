import { PRESENCE_PREFIX } from "../core/live-only.ts";

/**
 * The reserved topics of presence: the join and leave events of topic T are published on
 * `$presence/T` (private, live-only events: core/live-only.ts), and no client may publish there
 * (api/reserved-topics.ts). Who may read them: a token whose subscribe claim names a `$` topic
 * explicitly (`$presence/T`, `$presence/*`); a `*` grant does not reach topics that begin with `$`
 * (core/topic.ts `selectorGrants`).
 */
export { PRESENCE_PREFIX };

export function presenceTopicOf(topic: string): string {
  return PRESENCE_PREFIX + topic;
}
