import type { TopicSelector } from "../../core/topic.ts";
import { compileTemplate, looksLikeTemplate, TemplateError, TemplateTooComplex } from "./uri-template.ts";

/**
 * Mercure topic selectors (spec "Topic Selectors") turned into the core's TopicSelector:
 * 1. `*` matches every topic;
 * 2. a selector equal to the topic matches it (so a template also matches itself, as the spec asks);
 * 3. a valid RFC 6570 URI template matches the topics it can expand to (uri-template.ts);
 * 4. anything else matches nothing but itself (a string that is not a valid template is a plain
 *    string, as in the Mercure hub). Herald's own `orders/*` prefix syntax does NOT apply here.
 *
 * Compiled templates are cached by text (bounded), so a thousand subscribers of the same template
 * share one matcher.
 */
export class MercureSelectors {
  private readonly cache = new Map<string, TopicSelector>();

  constructor(
    private readonly options: {
      readonly maxTopicLength: number;
      /** Most NFA states one template may use (default 4096). */
      readonly maxStates?: number;
      /** Most compiled templates kept (default 10,000). */
      readonly cacheSize?: number;
    },
  ) {}

  /**
   * The core selector for a Mercure selector. Throws `TemplateTooComplex` for a template too big
   * to match cheaply (the caller answers 400); never for a merely invalid template.
   */
  parse(text: string): TopicSelector {
    if (text === "*") return { kind: "all" };
    if (!looksLikeTemplate(text)) return { kind: "exact", topic: text };
    const cached = this.cache.get(text);
    if (cached !== undefined) return cached;
    let selector: TopicSelector;
    try {
      const matches = compileTemplate(text, {
        maxTopicLength: this.options.maxTopicLength,
        maxStates: this.options.maxStates ?? 4096,
      });
      selector = { kind: "match", source: text, test: memoized((topic) => topic === text || matches(topic)) };
    } catch (error) {
      if (!(error instanceof TemplateError) || error instanceof TemplateTooComplex) throw error;
      selector = { kind: "exact", topic: text };
    }
    if (this.cache.size >= (this.options.cacheSize ?? 10_000)) {
      // Drop the oldest entry (Map keeps insertion order).
      this.cache.delete(this.cache.keys().next().value as string);
    }
    this.cache.set(text, selector);
    return selector;
  }
}

/**
 * Remembers the answers for the last few topics: one compiled selector is shared by every
 * subscriber of that template, and the hub asks each of them about the same event in a row, so a
 * thousand subscribers of one template cost one match per event topic, not a thousand.
 */
function memoized(test: (topic: string) => boolean, size = 32): (topic: string) => boolean {
  const answers = new Map<string, boolean>();
  return (topic) => {
    let answer = answers.get(topic);
    if (answer === undefined) {
      if (answers.size >= size) answers.clear();
      answer = test(topic);
      answers.set(topic, answer);
    }
    return answer;
  };
}
