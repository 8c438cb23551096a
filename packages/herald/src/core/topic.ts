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
 * on the fan-out path, once per event topic for all the subscribers that share the selector object.
 * `literal`, when given, is a prefix of every topic `test` accepts: the hub then runs `test` only
 * for topics that start with it (the hub's index, src/core/subscriber-index.ts).
 * `cost`, when given, is what one `test` costs in the hub's units of work (about 0.1 µs each;
 * default 1, a DFA walk): the hub counts it against the work of a fan-out step or a replay step
 * and yields the event loop when a step's budget is spent, so costly matchers (Mercure URL
 * patterns, ~10-25 µs a check) cannot hold the loop however many subscribers bring.
 */
export type TopicSelector =
  | { readonly kind: "exact"; readonly topic: string }
  | { readonly kind: "all" }
  | { readonly kind: "prefix"; readonly prefix: string }
  | {
      readonly kind: "match";
      readonly source: string;
      readonly test: (topic: string) => boolean;
      readonly literal?: string;
      readonly cost?: number;
    };

const PREFIX_MARKERS = ["/*", ":*", ".*"];

/** Is `code` (a UTF-16 code unit) one of the characters a prefix selector ends with: `/`, `:` or `.`? */
export function isSeparator(code: number): boolean {
  return code === 47 || code === 58 || code === 46;
}

/**
 * The longest start of `prefix` that ends with a separator (`/`, `:` or `.`), or "" when none does.
 * Every topic that starts with `prefix` starts with its anchor, and a topic's anchors are found by
 * cutting it after each of its separators: the hub's index keys pattern selectors by anchor.
 */
export function anchorOf(prefix: string): string {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (isSeparator(prefix.charCodeAt(i))) return prefix.slice(0, i + 1);
  }
  return "";
}

export function parseSelector(text: string): TopicSelector {
  if (text === "*") return { kind: "all" };
  for (const marker of PREFIX_MARKERS) {
    if (text.length > marker.length && text.endsWith(marker)) {
      return { kind: "prefix", prefix: text.slice(0, -1) };
    }
  }
  return { kind: "exact", topic: text };
}

/** The text a selector was parsed from (`parseSelector`'s inverse; a matcher's `source`). */
export function selectorText(selector: TopicSelector): string {
  switch (selector.kind) {
    case "all":
      return "*";
    case "exact":
      return selector.topic;
    case "prefix":
      return `${selector.prefix}*`;
    case "match":
      return selector.source;
  }
}

/**
 * True when every topic `inner` matches, `outer` matches too (a grant covers a need): `*` covers
 * everything, a prefix covers the exact topics and prefixes that start with it, anything else only
 * itself.
 */
export function selectorCovers(outer: TopicSelector, inner: TopicSelector): boolean {
  if (outer.kind === "all") return true;
  if (outer.kind === "prefix") {
    if (inner.kind === "exact") return inner.topic.startsWith(outer.prefix);
    if (inner.kind === "prefix") return inner.prefix.startsWith(outer.prefix);
    return false;
  }
  return selectorText(outer) === selectorText(inner) && outer.kind === inner.kind;
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

/**
 * Does `selector`, as a right (a token's subscribe claim), grant `topic`? As `selectorMatches`,
 * except for the hub's reserved topics, which begin with `$` (presence's `$presence/<topic>`): only
 * a selector that itself begins with `$` grants them (`$presence/room/1`, `$presence/*`); `*`, a
 * URI template or any other pattern does not (as MQTT's `#` does not match `$SYS` topics).
 */
export function selectorGrants(selector: TopicSelector, topic: string): boolean {
  if (topic.charCodeAt(0) !== 36) return selectorMatches(selector, topic); // 36: "$"
  if (selector.kind === "exact") return selector.topic === topic;
  return (
    selector.kind === "prefix" && selector.prefix.charCodeAt(0) === 36 && topic.startsWith(selector.prefix)
  );
}

/** Does any of `selectors`, as rights, grant any of `topics` (`selectorGrants`)? */
export function anySelectorGrants(selectors: readonly TopicSelector[], topics: readonly string[]): boolean {
  for (const topic of topics) {
    for (const selector of selectors) if (selectorGrants(selector, topic)) return true;
  }
  return false;
}

/** Work units of checking one topic against every selector of `selectors` (see `cost` above). */
export function selectorsCost(selectors: readonly TopicSelector[]): number {
  let cost = 0;
  for (const selector of selectors) cost += selector.kind === "match" ? Math.max(1, selector.cost ?? 1) : 1;
  return cost;
}

export function anySelectorMatches(selectors: readonly TopicSelector[], topics: readonly string[]): boolean {
  for (const topic of topics) {
    for (const selector of selectors) if (selectorMatches(selector, topic)) return true;
  }
  return false;
}
