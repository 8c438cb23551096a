import { parseSelector, type TopicSelector } from "../core/topic.ts";

/**
 * Most bytes of subscriptions remembered (their topics' text, counted twice: key and selectors,
 * plus the objects); past it the least recently used are forgotten (streams keep their arrays).
 */
export const SELECTOR_CACHE_BYTES = 4 * 2 ** 20;
/** Bytes of one cached subscription besides its text: the array, the selector objects, the map entry. */
const ENTRY_OVERHEAD = 128;
const PER_SELECTOR = 48;

const cache = new Map<string, { readonly selectors: readonly TopicSelector[]; readonly bytes: number }>();
let bytes = 0;

/**
 * The selectors of a subscription's (validated, deduplicated) topics, shared by every stream that
 * names the same topics: 10,000 streams of one topic hold one array, not 10,000 (memory per idle
 * stream). Selectors are immutable, so sharing them is safe. The cache is bounded in bytes
 * (`SELECTOR_CACHE_BYTES`, least recently used out), so distinct subscriptions sent by clients
 * that then leave pin nothing beyond it.
 */
export function selectorsOf(topics: readonly string[]): readonly TopicSelector[] {
  const key = topics.join("\n"); // topics hold no control characters (validateTopic)
  const known = cache.get(key);
  if (known !== undefined) {
    cache.delete(key); // most recently used last
    cache.set(key, known);
    return known.selectors;
  }
  const selectors = Object.freeze(topics.map(parseSelector));
  const cost = key.length * 4 + ENTRY_OVERHEAD + topics.length * PER_SELECTOR;
  if (cost > SELECTOR_CACHE_BYTES / 16) return selectors;
  cache.set(key, { selectors, bytes: cost });
  bytes += cost;
  for (const [oldest, entry] of cache) {
    if (bytes <= SELECTOR_CACHE_BYTES) break;
    cache.delete(oldest);
    bytes -= entry.bytes;
  }
  return selectors;
}

/** Bytes the cache holds now (for tests and leak checks). */
export function selectorCacheBytes(): number {
  return bytes;
}
