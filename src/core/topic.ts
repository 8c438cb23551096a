/**
 * Topic selectors used by subscriptions.
 *
 * Syntax (documented in docs/concepts.md):
 * - `*` matches every topic;
 * - a selector ending in `/*` or `:*` or `.*` matches every topic that starts with what comes before the `*`
 *   (e.g. `orders/*` matches `orders/1` and `orders/eu/2`, not `orders`);
 * - anything else matches exactly that topic (case-sensitive, byte for byte).
 *
 * Selectors are validated by the caller (server) for length and count; this module only parses.
 *
 * A `match` selector carries a matcher an adapter compiled (e.g. a Mercure URI template, see
 * src/server/mercure/selectors.ts), so the core stays free of any syntax but its own. Contract for
 * `test`: pure, never throws, and bounded in time (linear in the topic's length): the hub calls it
 * for every event on the fan-out path. The hub treats it like `prefix`: scanned, not indexed.
 */
export type TopicSelector =
  | { readonly kind: "exact"; readonly topic: string }
  | { readonly kind: "all" }
  | { readonly kind: "prefix"; readonly prefix: string }
  | { readonly kind: "match"; readonly source: string; readonly test: (topic: string) => boolean };

const PREFIX_MARKERS = ["/*", ":*", ".*"];

export function parseSelector(text: string): TopicSelector {
  if (text === "*") return { kind: "all" };
  for (const marker of PREFIX_MARKERS) {
    if (text.length > marker.length && text.endsWith(marker)) {
      return { kind: "prefix", prefix: text.slice(0, -1) };
    }
  }
  return { kind: "exact", topic: text };
}

export function selectorMatches(selector: TopicSelector, topic: string): boolean {
  switch (selector.kind) {
    case "all":
      return true;
    case "exact":
      return selector.topic === topic;
    case "prefix":
      return topic.startsWith(selector.prefix);
    case "match":
      return selector.test(topic);
  }
}

export function anySelectorMatches(selectors: readonly TopicSelector[], topics: readonly string[]): boolean {
  for (const topic of topics) {
    for (const selector of selectors) if (selectorMatches(selector, topic)) return true;
  }
  return false;
}
