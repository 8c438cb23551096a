import { randomUUID } from "node:crypto";
import type { PublishInput } from "../core/event.ts";

/** The fixed JSON-LD context of Mercure documents. */
export const JSONLD_CONTEXT = "https://mercure.rocks/";
export const SUBSCRIPTIONS_PATH = "/.well-known/mercure/subscriptions";

/** One connected Mercure subscriber, as the subscriptions API shows it. */
export interface ActiveSubscriber {
  /** `urn:uuid:<uuid>`, made by the hub per connection. */
  readonly id: string;
  /** The topic selectors it subscribed with, as given. */
  readonly topics: readonly string[];
  /** `mercure.payload` of its token, if any. */
  readonly payload: unknown;
}

/** A subscription document (spec "Subscription Events"). */
export interface SubscriptionDoc {
  "@context"?: string;
  id: string;
  type: "Subscription";
  topic: string;
  subscriber: string;
  active: boolean;
  payload?: unknown;
  lastEventID?: string;
}

/**
 * `/.well-known/mercure/subscriptions/{topic}/{subscriber}`, expanded as RFC 6570 asks: the
 * reserved characters of both values are percent-encoded.
 */
export function subscriptionTopic(topic: string, subscriber: string): string {
  return `${SUBSCRIPTIONS_PATH}/${encodeURIComponent(topic)}/${encodeURIComponent(subscriber)}`;
}

export function subscriptionDoc(
  subscriber: ActiveSubscriber,
  topic: string,
  active: boolean,
  withContext: boolean,
): SubscriptionDoc {
  const doc: SubscriptionDoc = {
    id: subscriptionTopic(topic, subscriber.id),
    type: "Subscription",
    topic,
    subscriber: subscriber.id,
    active,
  };
  if (subscriber.payload !== undefined) doc.payload = subscriber.payload;
  return withContext ? { "@context": JSONLD_CONTEXT, ...doc } : doc;
}

/**
 * The updates announcing that `subscriber` connected (`active`) or left: one per topic selector,
 * private (only subscribers whose `mercure.subscribe` allows the subscription topic get them), on
 * the topic `subscriptionTopic(topic, subscriber)`, with a hub-made `urn:uuid` id.
 */
export function subscriptionUpdates(subscriber: ActiveSubscriber, active: boolean): PublishInput[] {
  return subscriber.topics.map((topic) => {
    const doc = subscriptionDoc(subscriber, topic, active, true);
    return {
      topics: [doc.id],
      data: JSON.stringify(doc),
      private: true,
      id: `urn:uuid:${randomUUID()}`,
    };
  });
}

/**
 * The active Mercure subscribers of this process. With `--workers N` the subscriptions API lists
 * every worker's (collected by the primary); with several nodes behind a load balancer, each node
 * lists its own connections (the events themselves reach every node through the bus).
 */
export class SubscriptionRegistry {
  private readonly active = new Map<string, ActiveSubscriber>();

  add(subscriber: ActiveSubscriber): void {
    this.active.set(subscriber.id, subscriber);
  }

  remove(id: string): void {
    this.active.delete(id);
  }

  /** The active subscribers of this process. */
  all(): ActiveSubscriber[] {
    return [...this.active.values()];
  }

  /** Subscription documents of active subscribers, optionally only for one topic selector / subscriber. */
  list(filter: { topic?: string; subscriber?: string } = {}): SubscriptionDoc[] {
    return subscriptionDocs(this.active.values(), filter);
  }

  get size(): number {
    return this.active.size;
  }
}

/** Subscription documents of `subscribers`, optionally only for one topic selector / subscriber. */
export function subscriptionDocs(
  subscribers: Iterable<ActiveSubscriber>,
  filter: { topic?: string | undefined; subscriber?: string | undefined } = {},
): SubscriptionDoc[] {
  const docs: SubscriptionDoc[] = [];
  for (const subscriber of subscribers) {
    if (filter.subscriber !== undefined && subscriber.id !== filter.subscriber) continue;
    for (const topic of subscriber.topics) {
      if (filter.topic !== undefined && topic !== filter.topic) continue;
      docs.push(subscriptionDoc(subscriber, topic, true, false));
    }
  }
  return docs;
}
