import type { IncomingMessage } from "node:http";
import { badRequest } from "../../core/errors.ts";
import { DEFAULT_PUBLISH_LIMITS, validateTopic } from "../../core/event.ts";
import { headerText } from "../header-text.ts";
import { strictQuery } from "../strict-query.ts";

/** What bounds the topics of one subscription (HERALD_MAX_TOPICS, HERALD_MAX_TOPIC_LENGTH). */
export interface TopicQueryLimits {
  readonly maxTopics: number;
  readonly maxTopicLength: number;
}

/**
 * The `topic` query parameters of a stream request, validated (400 otherwise) and deduplicated: at
 * least one non-empty (else 400 with `howToSubscribe`, the protocol's own example), at most
 * `maxTopics`, each at most `maxTopicLength` characters with no control character. What a topic
 * means (an exact name, a pattern, a URI template) is the protocol's business.
 */
export function queryTopics(url: URL, limits: TopicQueryLimits, howToSubscribe: string): string[] {
  const topics = queryValues(url, "topic");
  if (topics.length === 0 || topics.every((t) => t === "")) throw badRequest(howToSubscribe);
  if (topics.length > limits.maxTopics) {
    throw badRequest(
      `a subscription may name at most ${limits.maxTopics} topics (HERALD_MAX_TOPICS); got ${topics.length}`,
    );
  }
  const topicLimits = { ...DEFAULT_PUBLISH_LIMITS, maxTopicLength: limits.maxTopicLength };
  return [...new Set(topics)].map((topic) => validateTopic(topic, topicLimits, "topic"));
}

/**
 * The client's resume point: the `Last-Event-ID` header (what EventSource sends when it reconnects)
 * wins over the query parameter `queryName` (for a first connection; `lastEventId` in Herald's
 * API, `lastEventID` in Mercure's). Undefined: live only. Not validated here: the hub's history
 * answers an id it does not know with a "cannot resume" outcome.
 */
export function resumeFrom(req: IncomingMessage, url: URL, queryName: string): string | undefined {
  const header = req.headers["last-event-id"];
  if (typeof header === "string" && header !== "") return headerText(header);
  const query = queryValues(url, queryName)[0];
  return query === undefined || query === "" ? undefined : query;
}

/** The values of the query parameter `name`, in order, UTF-8 checked (`strictQuery`: 400); other parameters are not checked. */
export function queryValues(url: URL, name: string): string[] {
  const values: string[] = [];
  for (const [, value] of strictQuery(url.search, name)) values.push(value);
  return values;
}
