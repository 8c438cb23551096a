import { HeraldError } from "../core/errors.ts";
import type { TopicSelector } from "../core/topic.ts";
import {
  type CompiledTemplate,
  compileTemplateMatcher,
  isTemplate,
  looksLikeTemplate,
  MAX_VARIABLES,
  TemplateError,
  TemplateTooComplex,
} from "./uri-template.ts";
import {
  compileUrlPattern,
  URL_PATTERN_CHECK_COST,
  UrlPatternError,
  UrlPatternTooComplex,
} from "./v1/urlpattern.ts";

/**
 * A Mercure 1.0 `urlpattern` matcher of a subscriber (`match_urlpattern=`), with the hub URL its
 * relative patterns and topics are resolved against.
 */
export interface UrlPatternMatcher {
  readonly type: "urlpattern";
  readonly pattern: string;
  readonly base: string;
}

/** The cache key of a URL pattern: NUL never occurs in a topic, so it never equals a template's text. */
const urlPatternKey = (m: UrlPatternMatcher, from: "subscriber" | "token") =>
  `\0urlpattern:${from}\0${m.base}\0${m.pattern}`;

/** How far subscribers' URI templates may go (docs/limits.md, "Mercure URI templates"). */
export interface TemplateLimits {
  readonly maxTopicLength: number;
  /** Largest template: states of its matcher, a DFA (HERALD_MAX_TEMPLATE_SIZE). */
  readonly maxStates: number;
  /** Most distinct templates the open streams of one client (IP) may use (HERALD_MAX_TEMPLATES_PER_IP). */
  readonly perClient: number;
  /** Most bytes of compiled templates held (HERALD_TEMPLATE_CACHE). */
  readonly cacheBytes: number;
}

export const DEFAULT_TEMPLATE_LIMITS: TemplateLimits = {
  maxTopicLength: 256,
  maxStates: 256,
  perClient: 32,
  cacheBytes: 64 * 2 ** 20,
};

/** The selectors of one stream, held until `release` (idempotent). */
export interface HeldSelectors {
  readonly selectors: readonly TopicSelector[];
  release(): void;
}

interface Entry {
  readonly text: string;
  readonly selector: TopicSelector;
  readonly bytes: number;
  /** Compiled with its whole DFA within the subscribers' limit (else lazily, for a token). */
  readonly complete: boolean;
  /** Streams holding it. 0 = idle: kept for reuse while the idle share of the cache allows. */
  refs: number;
}

/** Bytes an entry costs besides its matcher and text: the selector, closures and map entries. */
const ENTRY_OVERHEAD = 512;
/** Largest NFA of a subscriber's template (bounds the cost of building its DFA). */
const SUBSCRIBER_NFA_STATES = 1024;
/** Most work (NFA states looked at) building one template's DFA may take: a few ms. */
const DFA_BUILD_STEPS = 200_000;
/** Largest NFA of a template in a token's claims (trusted: signed with the operator's key). */
const TOKEN_NFA_STATES = 4096;
/** Share of the cache that templates no stream uses may keep (the rest is given back when clients leave). */
const IDLE_SHARE = 8;

/**
 * Mercure topic selectors (spec "Topic Selectors") turned into the core's TopicSelector:
 * 1. `*` matches every topic;
 * 2. a selector equal to the topic matches it (so a template also matches itself, as the spec asks);
 * 3. a valid RFC 6570 URI template matches the topics it can expand to (uri-template.ts);
 * 4. anything else matches nothing but itself (a string that is not a valid template is a plain
 *    string, as in the Mercure hub). Herald's own `orders/*` prefix syntax does NOT apply here.
 *
 * Templates come from untrusted subscribers, so what they cost is bounded (issue 11):
 * - size: a template over `maxStates` is refused (400);
 * - sharing: one compiled matcher per template text, whatever the number of streams using it
 *   (reference-counted), so the hub checks it once per event topic for all of them; its literal
 *   start lets the hub's index skip it for topics that do not start with it;
 * - per client: the streams of one IP may use at most `perClient` distinct templates (429);
 * - memory: compiled templates take at most `cacheBytes`; templates in use are never dropped, so
 *   when they fill it a new template is refused (503); templates no stream uses any more are
 *   kept for reuse only up to an eighth of it, least recently used first out.
 * Per process: with `--workers N` each worker counts its own streams and cache.
 */
export class MercureSelectors {
  private readonly limits: TemplateLimits;
  private readonly entries = new Map<string, Entry>();
  /** Idle entries, least recently used first. */
  private readonly idle = new Map<string, Entry>();
  /** Per client: template text -> streams of that client holding it. */
  private readonly clients = new Map<string, Map<string, number>>();
  private liveBytes = 0;
  private idleBytes = 0;

  constructor(limits: Partial<TemplateLimits> = {}) {
    this.limits = { ...DEFAULT_TEMPLATE_LIMITS, ...limits };
  }

  /** Templates held and their bytes, live (some stream uses them) and idle. */
  get stats(): { live: number; idle: number; liveBytes: number; idleBytes: number } {
    return {
      live: this.entries.size - this.idle.size,
      idle: this.idle.size,
      liveBytes: this.liveBytes,
      idleBytes: this.idleBytes,
    };
  }

  /** Distinct templates the streams of `client` hold. */
  heldBy(client: string): number {
    return this.clients.get(client)?.size ?? 0;
  }

  /**
   * The core selector for a selector of a token's claim (`mercure.subscribe`, `mercure.publish`):
   * signed by the operator's key, so not counted per client, and a template too big for
   * subscribers is still taken up to `TOKEN_NFA_STATES` (matched lazily); compiled through the
   * cache and not held (the selector stays valid when the cache drops it). Throws
   * `TemplateTooComplex`.
   */
  parse(text: string): TopicSelector {
    const plain = plainSelector(text);
    if (plain !== undefined) return plain;
    const known = this.entries.get(text);
    if (known !== undefined) {
      this.touch(known);
      return known.selector;
    }
    let entry: Entry | undefined;
    try {
      entry = this.compile(text, true);
    } catch (error) {
      if (!(error instanceof TemplateTooComplex)) throw error;
      entry = this.compile(text, false);
    }
    if (entry === undefined) return { kind: "exact", topic: text };
    this.entries.set(text, entry);
    this.idle.set(text, entry);
    this.idleBytes += entry.bytes;
    this.trim();
    return entry.selector;
  }

  /**
   * The core selector for a `urlpattern` matcher of a 1.0 token's `authorization_details`: signed
   * by a trusted issuer, so not counted per client, and allowed four times the subscribers'
   * size; compiled through the cache, not held. Throws `UrlPatternError`.
   */
  parseUrlPattern(matcher: UrlPatternMatcher): TopicSelector {
    if (matcher.pattern === "*") return { kind: "all" };
    const key = urlPatternKey(matcher, "token");
    const known = this.entries.get(key);
    if (known !== undefined) {
      this.touch(known);
      return known.selector;
    }
    const entry = this.compileUrlPattern(key, matcher, false);
    this.entries.set(key, entry);
    this.idle.set(key, entry);
    this.idleBytes += entry.bytes;
    this.trim();
    return entry.selector;
  }

  /**
   * The selectors of a subscription from `client`, held (with their templates) until `release`.
   * New templates are compiled one per event-loop turn. All or nothing. Rejects with a
   * `HeraldError`: `bad_request` for a template over the size limit, `too_many_requests` when the
   * client would hold more than `perClient` distinct templates, `unavailable` when templates in
   * use fill the cache.
   */
  async hold(texts: readonly (string | UrlPatternMatcher)[], client: string): Promise<HeldSelectors> {
    /** Per text: its plain selector, or the template text (resolved to an entry below). */
    const parts: (TopicSelector | string)[] = [];
    const templates = new Map<string, Entry>();
    let compiled = 0;
    for (const item of texts) {
      if (typeof item !== "string") {
        if (item.pattern === "*") {
          parts.push({ kind: "all" });
          continue;
        }
        const key = urlPatternKey(item, "subscriber");
        let entry = templates.get(key) ?? this.entries.get(key);
        if (entry === undefined) {
          this.checkClient(client, templates, key);
          if (compiled++ > 0) await nextTurn();
          entry = this.compileUrlPattern(key, item, true);
        }
        parts.push(key);
        templates.set(key, entry);
        this.checkClient(client, templates);
        continue;
      }
      const text = item;
      const plain = plainSelector(text);
      if (plain !== undefined) {
        parts.push(plain);
        continue;
      }
      let entry = templates.get(text) ?? this.entries.get(text);
      if (entry === undefined) {
        if (!isTemplate(text)) {
          parts.push({ kind: "exact", topic: text });
          continue;
        }
        // a client at its limit is refused before its template is compiled (that is the costly part)
        this.checkClient(client, templates, text);
        if (compiled++ > 0) await nextTurn();
        try {
          entry = this.compile(text, true);
        } catch (error) {
          if (error instanceof TemplateTooComplex) throw this.tooComplex(text, error.message);
          throw error;
        }
        if (entry === undefined) {
          parts.push({ kind: "exact", topic: text });
          continue;
        }
      } else if (!entry.complete) {
        throw this.tooComplex(text, "its matcher needs more states than the limit");
      }
      parts.push(text);
      templates.set(text, entry);
      this.checkClient(client, templates); // refuses before compiling more than the client may hold
    }
    // From here on, no await: what was compiled meanwhile by another request is shared.
    for (const [text, entry] of templates) {
      const known = this.entries.get(text);
      if (known !== undefined && known !== entry && known.complete) templates.set(text, known);
    }
    this.checkClient(client, templates);
    let needed = 0;
    for (const entry of templates.values()) if (entry.refs === 0) needed += entry.bytes;
    if (needed > 0 && this.liveBytes + needed > this.limits.cacheBytes) {
      throw new HeraldError(
        "unavailable",
        `the hub holds as many compiled URI templates as it may (HERALD_TEMPLATE_CACHE=${this.limits.cacheBytes} bytes); retry later, or subscribe with templates other clients already use`,
        { retryAfterSeconds: 5 },
      );
    }
    const wanted = [...templates.values()];
    for (const entry of wanted) {
      const known = this.entries.get(entry.text);
      if (known !== entry) {
        if (known !== undefined) this.drop(entry.text, known); // idle, not complete: replaced
        this.entries.set(entry.text, entry);
      }
      this.acquire(entry);
    }
    this.trim();
    if (templates.size > 0) {
      let counts = this.clients.get(client);
      if (counts === undefined) {
        counts = new Map();
        this.clients.set(client, counts);
      }
      for (const text of templates.keys()) counts.set(text, (counts.get(text) ?? 0) + 1);
    }
    const selectors = parts.map((part) =>
      typeof part === "string" ? (templates.get(part) as Entry).selector : part,
    );
    let released = false;
    return {
      selectors,
      release: () => {
        if (released) return;
        released = true;
        this.releaseAll(wanted, client);
      },
    };
  }

  /** Throws 429 when `templates` (and `also`) would take `client` over its number of distinct templates. */
  private checkClient(client: string, templates: ReadonlyMap<string, Entry>, also?: string): void {
    const mine = this.clients.get(client);
    let added = also !== undefined && mine?.has(also) !== true ? 1 : 0;
    for (const text of templates.keys()) if (mine?.has(text) !== true) added++;
    const held = mine?.size ?? 0;
    if (added > 0 && held + added > this.limits.perClient) {
      throw new HeraldError(
        "too_many_requests",
        `too many distinct URI templates from your address: your open streams use ${held}, this one adds ${added} or more, the limit is ${this.limits.perClient} (HERALD_MAX_TEMPLATES_PER_IP); reuse templates, or close streams`,
        { retryAfterSeconds: 5 },
      );
    }
  }

  private tooComplex(text: string, why: string): HeraldError {
    return new HeraldError(
      "bad_request",
      `topic ${JSON.stringify(text)}: the URI template is too complex: ${why} (limits: HERALD_MAX_TEMPLATE_SIZE=${this.limits.maxStates} states, ${MAX_VARIABLES} variables); use fewer variables or shorter prefix modifiers`,
    );
  }

  private acquire(entry: Entry): void {
    if (entry.refs === 0) {
      if (this.idle.delete(entry.text)) this.idleBytes -= entry.bytes;
      this.liveBytes += entry.bytes;
    }
    entry.refs++;
  }

  private releaseAll(entries: readonly Entry[], client: string): void {
    const counts = this.clients.get(client);
    for (const entry of entries) {
      if (counts !== undefined) {
        const n = (counts.get(entry.text) ?? 1) - 1;
        if (n > 0) counts.set(entry.text, n);
        else counts.delete(entry.text);
      }
      entry.refs--;
      if (entry.refs > 0) continue;
      this.liveBytes -= entry.bytes;
      this.idle.set(entry.text, entry);
      this.idleBytes += entry.bytes;
    }
    if (counts?.size === 0) this.clients.delete(client);
    this.trim();
  }

  /**
   * Drops the least recently used idle entries until the idle ones take at most their share of
   * the cache, and all of them together at most the cache.
   */
  private trim(): void {
    const limit = Math.min(this.limits.cacheBytes / IDLE_SHARE, this.limits.cacheBytes - this.liveBytes);
    for (const [text, entry] of this.idle) {
      if (this.idleBytes <= limit) break;
      this.drop(text, entry);
    }
  }

  private drop(text: string, entry: Entry): void {
    this.idle.delete(text);
    this.entries.delete(text);
    this.idleBytes -= entry.bytes;
  }

  /** Marks an idle entry as recently used. */
  private touch(entry: Entry): void {
    if (entry.refs > 0 || !this.idle.delete(entry.text)) return;
    this.idle.set(entry.text, entry);
  }

  /**
   * An entry for a URL pattern. For a subscriber (`subscriber`): limits of HERALD_MAX_TEMPLATE_SIZE
   * RE2 instructions and HERALD_MAX_TOPIC_LENGTH characters, errors as 400s; for a token: four
   * times those, errors as `UrlPatternError` (the caller makes them a 401).
   */
  private compileUrlPattern(key: string, matcher: UrlPatternMatcher, subscriber: boolean): Entry {
    const scale = subscriber ? 1 : 4;
    const limits = {
      maxLength: this.limits.maxTopicLength * scale,
      maxProgram: this.limits.maxStates * scale,
    };
    try {
      const compiled = compileUrlPattern(matcher.pattern, matcher.base, limits);
      // the answer for the last topic asked is remembered, as for templates (below)
      let last: string | undefined;
      let answer = false;
      const test = (topic: string): boolean => {
        if (topic !== last) {
          answer = compiled.test(topic);
          last = topic;
        }
        return answer;
      };
      const selector: TopicSelector = {
        kind: "match",
        source: matcher.pattern,
        test,
        cost: URL_PATTERN_CHECK_COST,
      };
      return { text: key, selector, bytes: compiled.bytes + ENTRY_OVERHEAD, complete: subscriber, refs: 0 };
    } catch (error) {
      if (!subscriber || !(error instanceof UrlPatternError)) throw error;
      const limit =
        error instanceof UrlPatternTooComplex
          ? ` (limits: HERALD_MAX_TEMPLATE_SIZE=${this.limits.maxStates} RE2 instructions, HERALD_MAX_TOPIC_LENGTH=${this.limits.maxTopicLength} characters); use fewer or simpler groups`
          : "; see https://urlpattern.spec.whatwg.org for the syntax (`:name`, `*`, `{...}?`)";
      throw new HeraldError(
        "bad_request",
        `match_urlpattern ${JSON.stringify(matcher.pattern)}: ${error.message}${limit}`,
      );
    }
  }

  /**
   * An entry for a template (undefined: not a valid template, so a plain string). `complete`: with
   * its whole DFA built within the subscribers' limit (else a lazy matcher, for tokens). Throws
   * `TemplateTooComplex`.
   */
  private compile(text: string, complete: boolean): Entry | undefined {
    let compiled: CompiledTemplate;
    try {
      compiled = compileTemplateMatcher(
        text,
        complete
          ? {
              maxTopicLength: this.limits.maxTopicLength,
              maxStates: SUBSCRIBER_NFA_STATES,
              dfa: { states: this.limits.maxStates, steps: DFA_BUILD_STEPS },
            }
          : { maxTopicLength: this.limits.maxTopicLength, maxStates: TOKEN_NFA_STATES },
      );
    } catch (error) {
      if (!(error instanceof TemplateError) || error instanceof TemplateTooComplex) throw error;
      return undefined;
    }
    // The answer for the last topic asked is remembered: replays and private checks ask a
    // selector about the same event once per subscriber (the fan-out asks once per topic already).
    let last: string | undefined;
    let answer = false;
    const test = (topic: string): boolean => {
      if (topic !== last) {
        answer = topic === text || compiled.matches(topic);
        last = topic;
      }
      return answer;
    };
    const selector: TopicSelector = { kind: "match", source: text, literal: compiled.literal, test };
    const bytes = compiled.bytes + text.length * 4 + ENTRY_OVERHEAD;
    return { text, selector, bytes, complete, refs: 0 };
  }
}

/** `*` and strings that are not templates; undefined for what may be a template. */
function plainSelector(text: string): TopicSelector | undefined {
  if (text === "*") return { kind: "all" };
  if (!looksLikeTemplate(text)) return { kind: "exact", topic: text };
  return undefined;
}

/** Resolves in the next event-loop turn (after I/O): long work in small pieces. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
