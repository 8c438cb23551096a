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
 * Ties one stream's life to presence: joined once the stream opens (`opening`), left when it ends.
 * Only exact topics count (a pattern subscription such as `room/*` is on no one topic). Undefined
 * when none of the stream's topics is watched: such a stream costs presence nothing.
 */
export function presenceWatcher(
  presence: SubscriberPresence & { watches(topic: string): boolean },
  principal: Principal,
  selectors: readonly TopicSelector[],
): StreamWatcher | undefined {
  const topics: string[] = [];
  for (const selector of selectors) {
    if (selector.kind === "exact" && presence.watches(selector.topic)) topics.push(selector.topic);
  }
  if (topics.length === 0) return undefined;
  return new PresenceWatcher(presence, identityOf(principal), topics);
}

class PresenceWatcher implements StreamWatcher {
  private joined = false;
  constructor(
    private readonly presence: SubscriberPresence,
    private readonly identity: Identity,
    private readonly topics: readonly string[],
  ) {}

  async opening(): Promise<void> {
    this.joined = true;
    this.presence.joined(this.identity, this.topics);
  }

  closed(_reason: CloseReason | undefined): void {
    if (!this.joined) return;
    this.joined = false;
    this.presence.left(this.identity, this.topics);
  }
}
