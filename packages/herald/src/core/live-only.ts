import type { HeraldEvent } from "./event.ts";

/**
 * The reserved topics of presence: the join and leave events of topic T go on `$presence/T`
 * (presence/reserved.ts). Only the hub publishes there (api/reserved-topics.ts refuses every
 * client publish).
 */
export const PRESENCE_PREFIX = "$presence/";

/**
 * True for an event that is delivered live and never held for replay: presence's join and leave
 * events (every topic under `PRESENCE_PREFIX`). Connect/disconnect churn is driven by anyone who
 * can open a stream; held, these events would push other topics' events out of the bounded
 * history (`History.add` skips them, as it skips control records) and a resume would miss them.
 * A watcher that reconnects reads the current state with `GET /presence` instead (docs/presence.md).
 */
export function isLiveOnly(event: HeraldEvent): boolean {
  if (event.topics.length === 0) return false;
  for (const topic of event.topics) if (!topic.startsWith(PRESENCE_PREFIX)) return false;
  return true;
}
