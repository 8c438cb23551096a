import type { Principal } from "../core/auth.ts";
import type { CloseReason } from "../core/subscriber.ts";
import type { TopicSelector } from "../core/topic.ts";
import type { StreamWatcher } from "../http/sse/open-stream.ts";
import type { Identity, SubscriberPresence } from "./presence.ts";

/** The identity presence lists for a principal: its token's `sub` (null: anonymous, or no `sub`). */
export function identityOf(principal: Principal): Identity {
  return principal.id.startsWith("sub:") ? principal.id.slice(4) : null;
}

/**
 * Ties one stream's life to presence: joined once the stream opens (`opening`), left when it ends,
 * and moved when its topics change (`changed`). Only exact topics count (a pattern subscription such
 * as `room/*` is on no one topic). Undefined when none of the stream's topics is watched and they
 * cannot change (`changeable`: a `GET /events` stream): such a stream costs presence nothing.
 */
export function presenceWatcher(
  presence: SubscriberPresence & { watches(topic: string): boolean },
  principal: Principal,
  selectors: readonly TopicSelector[],
  changeable = false,
): PresenceWatcher | undefined {
  const topics = watchedTopics(presence, selectors);
  if (topics.length === 0 && !changeable) return undefined;
  return new PresenceWatcher(presence, identityOf(principal), topics);
}

function watchedTopics(presence: { watches(topic: string): boolean }, selectors: readonly TopicSelector[]) {
  const topics: string[] = [];
  for (const selector of selectors) {
    if (selector.kind === "exact" && presence.watches(selector.topic)) topics.push(selector.topic);
  }
  return topics;
}

export class PresenceWatcher implements StreamWatcher {
  private joined = false;
  constructor(
    private readonly presence: SubscriberPresence & { watches(topic: string): boolean },
    private readonly identity: Identity,
    private topics: readonly string[],
  ) {}

  async opening(): Promise<void> {
    this.joined = true;
    if (this.topics.length > 0) this.presence.joined(this.identity, this.topics);
  }

  /** The stream's topics are now `selectors` (`POST /streams/{id}/topics`): leaves the watched topics dropped, joins those added. */
  changed(selectors: readonly TopicSelector[]): void {
    const next = watchedTopics(this.presence, selectors);
    const gone = this.topics.filter((topic) => !next.includes(topic));
    const added = next.filter((topic) => !this.topics.includes(topic));
    this.topics = next;
    if (!this.joined) return;
    if (gone.length > 0) this.presence.left(this.identity, gone);
    if (added.length > 0) this.presence.joined(this.identity, added);
  }

  closed(_reason: CloseReason | undefined): void {
    if (!this.joined) return;
    this.joined = false;
    if (this.topics.length > 0) this.presence.left(this.identity, this.topics);
  }
}
