/**
 * The reserved topics of presence: the join and leave events of topic T are published on
 * `$presence/T` (private events), and no client may publish there (api/reserved-topics.ts).
 * Who may read them: a token whose subscribe claim names a `$` topic explicitly (`$presence/T`,
 * `$presence/*`); a `*` grant does not reach topics that begin with `$` (core/topic.ts `grants`).
 */
export const PRESENCE_PREFIX = "$presence/";

export function presenceTopicOf(topic: string): string {
  return PRESENCE_PREFIX + topic;
}
