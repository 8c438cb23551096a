import { randomUUID } from "node:crypto";
import type { PublishInput } from "../core/event.ts";
import type { MatcherType } from "./v1/details.ts";

/** The fixed JSON-LD context of Mercure documents. */
export const JSONLD_CONTEXT = "https://mercure.rocks/";
export const SUBSCRIPTIONS_PATH = "/.well-known/mercure/subscriptions";

/** One connected Mercure subscriber, as the subscriptions API shows it. */
export interface ActiveSubscriber {
  /** `urn:uuid:<uuid>`, made by the hub per connection. */
  readonly id: string;
  /** The 0.x topic selectors it subscribed with (`topic=`), as given. */
  readonly topics: readonly string[];
  /** `mercure.payload` of its 0.x token, if any. */
  readonly payload: unknown;
  /** Its 1.0 subscriptions (`match=`, `match_urlpattern=`), each with its payload (spec "Payloads"). */
  readonly matchers?: readonly MatcherSubscription[];
}

/** One 1.0 subscription of a subscriber. */
export interface MatcherSubscription {
  readonly type: MatcherType;
  readonly match: string;
  readonly payload?: unknown;
}

/** A 1.0 subscription document (spec "Subscription Events"): plain JSON, lowercase `type`. */
export interface SubscriptionDocV1 {
  id: string;
  type: "subscription";
  match_type: MatcherType;
  match: string;
  subscriber: string;
  active: boolean;
  payload?: unknown;
}

/** The SSE event type of the events the hub makes itself (1.0); publishers may not use it. */
export const MERCURE_EVENT_TYPE = "mercure";

/**
 * RFC 6570 simple expansion of one value: every character but the unreserved ones
 * (`A-Z a-z 0-9 - . _ ~`) percent-encoded (UTF-8), once.
 */
export function encodeSegment(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `/.well-known/mercure/subscriptions/{match_type}/{match}/{subscriber}` (1.0). */
export function matcherSubscriptionTopic(type: MatcherType, match: string, subscriber: string): string {
  return `${SUBSCRIPTIONS_PATH}/${type}/${encodeSegment(match)}/${encodeSegment(subscriber)}`;
}

export function subscriptionDocV1(
  subscriber: ActiveSubscriber,
  matcher: MatcherSubscription,
  active: boolean,
): SubscriptionDocV1 {
  const doc: SubscriptionDocV1 = {
    id: matcherSubscriptionTopic(matcher.type, matcher.match, subscriber.id),
    type: "subscription",
    match_type: matcher.type,
    match: matcher.match,
    subscriber: subscriber.id,
    active,
  };
  if (matcher.payload !== undefined) doc.payload = matcher.payload;
  return doc;
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
 * The updates announcing that `subscriber` connected (`active`) or left: one per subscription,
 * private (only subscribers whose token allows the subscription topic get them), with a hub-made
 * `urn:uuid` id. A 0.x subscription (`topic=`) gets the 0.x event (JSON-LD, topic
 * `subscriptionTopic(topic, subscriber)`, no SSE type); a 1.0 one the 1.0 event (plain JSON, topic
 * `matcherSubscriptionTopic(...)`, SSE type `mercure`).
 */
export function subscriptionUpdates(subscriber: ActiveSubscriber, active: boolean): PublishInput[] {
  const updates: PublishInput[] = subscriber.topics.map((topic) => {
    const doc = subscriptionDoc(subscriber, topic, active, true);
    return {
      topics: [doc.id],
      data: JSON.stringify(doc),
      private: true,
      id: `urn:uuid:${randomUUID()}`,
    };
  });
  for (const matcher of subscriber.matchers ?? []) {
    const doc = subscriptionDocV1(subscriber, matcher, active);
    updates.push({
      topics: [doc.id],
      data: JSON.stringify(doc),
      private: true,
      id: `urn:uuid:${randomUUID()}`,
      type: MERCURE_EVENT_TYPE,
    });
  }
  return updates;
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

/**
 * 1.0 subscription documents of `subscribers` (their 0.x subscriptions too, in the 0.x shape, as
 * the Mercure hub lists them in compatibility mode), optionally only for one matcher / subscriber.
 */
export function subscriptionDocsV1(
  subscribers: Iterable<ActiveSubscriber>,
  filter: {
    type?: MatcherType | undefined;
    match?: string | undefined;
    subscriber?: string | undefined;
  } = {},
): (SubscriptionDocV1 | SubscriptionDoc)[] {
  const docs: (SubscriptionDocV1 | SubscriptionDoc)[] = [];
  const byMatcher = filter.type !== undefined;
  for (const subscriber of subscribers) {
    if (filter.subscriber !== undefined && subscriber.id !== filter.subscriber) continue;
    if (!byMatcher) {
      for (const topic of subscriber.topics) docs.push(subscriptionDoc(subscriber, topic, true, false));
    }
    for (const matcher of subscriber.matchers ?? []) {
      if (byMatcher && (matcher.type !== filter.type || matcher.match !== filter.match)) continue;
      docs.push(subscriptionDocV1(subscriber, matcher, true));
    }
  }
  return docs;
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
