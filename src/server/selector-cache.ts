import { parseSelector, type TopicSelector } from "../core/topic.ts";

/** Most distinct subscriptions remembered; past it, new ones are parsed each time (still correct). */
const MAX_ENTRIES = 10_000;
const cache = new Map<string, readonly TopicSelector[]>();

/**
 * The selectors of a subscription's (validated, deduplicated) topics, shared by every stream that
 * names the same topics: 10,000 streams of one topic hold one array, not 10,000 (memory per idle
 * stream). Selectors are immutable, so sharing them is safe.
 */
export function selectorsOf(topics: readonly string[]): readonly TopicSelector[] {
  const key = topics.join("\n"); // topics hold no control characters (validateTopic)
  const known = cache.get(key);
  if (known !== undefined) return known;
  const selectors = Object.freeze(topics.map(parseSelector));
  if (cache.size < MAX_ENTRIES) cache.set(key, selectors);
  return selectors;
}
