import { HeraldError } from "../../core/errors.ts";
import type { TopicSelector } from "../../core/topic.ts";
import {
  type CompiledTemplate,
  compileTemplateMatcher,
  looksLikeTemplate,
  MAX_VARIABLES,
  TemplateError,
  TemplateTooComplex,
} from "./uri-template.ts";

/** How far subscribers' URI templates may go (docs/limits.md, "Mercure URI templates"). */
export interface TemplateLimits {
  readonly maxTopicLength: number;
  /** Largest template, in NFA states after its literal start (HERALD_MAX_TEMPLATE_SIZE). */
  readonly maxStates: number;
  /** Most distinct templates the open streams of one client (IP) may use (HERALD_MAX_TEMPLATES_PER_IP). */
  readonly perClient: number;
  /** Most bytes of compiled templates held (HERALD_TEMPLATE_CACHE). */
  readonly cacheBytes: number;
}

export const DEFAULT_TEMPLATE_LIMITS: TemplateLimits = {
  maxTopicLength: 256,
  maxStates: 256,
  perClient: 64,
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
  /** Compiled states (`CompiledTemplate.size`). */
  readonly size: number;
  /** Streams holding it. 0 = idle: kept for reuse while the idle share of the cache allows. */
  refs: number;
}

/** Bytes an entry costs besides its matcher: the text (twice: key and selector), the memo, the objects. */
const ENTRY_OVERHEAD = 1024;
/** Largest template in a token's claims (trusted: signed with the operator's key). */
const TOKEN_MAX_STATES = 4096;
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
   * signed by the operator's key, so not counted per client and allowed up to `TOKEN_MAX_STATES`
   * (or the subscribers' limit when higher); compiled through the cache and not held (the
   * selector stays valid when the cache drops it). Throws `TemplateTooComplex`.
   */
  parse(text: string): TopicSelector {
    const plain = plainSelector(text);
    if (plain !== undefined) return plain;
    const known = this.entries.get(text);
    if (known !== undefined) {
      this.touch(known);
      return known.selector;
    }
    const entry = this.compile(text, Math.max(TOKEN_MAX_STATES, this.limits.maxStates));
    if (entry === undefined) return { kind: "exact", topic: text };
    this.entries.set(text, entry);
    this.idle.set(text, entry);
    this.idleBytes += entry.bytes;
    this.trim();
    return entry.selector;
  }

  /**
   * The selectors of a subscription from `client`, held (with their templates) until `release`.
   * All or nothing. Throws a `HeraldError`: `bad_request` for a template over the size limit,
   * `too_many_requests` when the client would hold more than `perClient` distinct templates,
   * `unavailable` when templates in use fill the cache.
   */
  hold(texts: readonly string[], client: string): HeldSelectors {
    const mine = this.clients.get(client);
    const fresh: Entry[] = [];
    const wanted: Entry[] = [];
    const selectors: TopicSelector[] = [];
    const templates = new Set<string>();
    for (const text of texts) {
      const plain = plainSelector(text);
      if (plain !== undefined) {
        selectors.push(plain);
        continue;
      }
      let entry = this.entries.get(text);
      if (entry !== undefined && entry.size > this.limits.maxStates) {
        throw this.tooComplex(text, `it compiles to ${entry.size} states`);
      }
      if (entry === undefined) {
        try {
          entry = this.compile(text, this.limits.maxStates);
        } catch (error) {
          if (error instanceof TemplateTooComplex) throw this.tooComplex(text, error.message);
          throw error;
        }
        if (entry === undefined) {
          selectors.push({ kind: "exact", topic: text });
          continue;
        }
        fresh.push(entry);
      }
      selectors.push(entry.selector);
      if (!templates.has(text)) {
        templates.add(text);
        wanted.push(entry);
      }
    }
    let added = 0;
    for (const text of templates) if (mine?.has(text) !== true) added++;
    const held = mine?.size ?? 0;
    if (added > 0 && held + added > this.limits.perClient) {
      throw new HeraldError(
        "too_many_requests",
        `too many distinct URI templates from your address: your open streams use ${held}, this one adds ${added}, the limit is ${this.limits.perClient} (HERALD_MAX_TEMPLATES_PER_IP); reuse templates, or close streams`,
        { retryAfterSeconds: 5 },
      );
    }
    let needed = 0;
    for (const entry of wanted) if (entry.refs === 0) needed += entry.bytes;
    if (needed > 0 && this.liveBytes + needed > this.limits.cacheBytes) {
      throw new HeraldError(
        "unavailable",
        `the hub holds as many compiled URI templates as it may (HERALD_TEMPLATE_CACHE=${this.limits.cacheBytes} bytes); retry later, or subscribe with templates other clients already use`,
        { retryAfterSeconds: 5 },
      );
    }
    for (const entry of fresh) this.entries.set(entry.text, entry);
    for (const entry of wanted) this.acquire(entry);
    this.trim();
    if (templates.size > 0) {
      const counts = mine ?? new Map<string, number>();
      if (mine === undefined) this.clients.set(client, counts);
      for (const text of templates) counts.set(text, (counts.get(text) ?? 0) + 1);
    }
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

  private tooComplex(text: string, why: string): HeraldError {
    return new HeraldError(
      "bad_request",
      `topic ${JSON.stringify(text)}: the URI template is too complex: ${why} (limits: HERALD_MAX_TEMPLATE_SIZE=${this.limits.maxStates} states, ${MAX_VARIABLES} variables); use fewer variables`,
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

  /** An entry for a template (undefined: not a valid template, so a plain string). Throws `TemplateTooComplex`. */
  private compile(text: string, maxStates: number): Entry | undefined {
    let compiled: CompiledTemplate;
    try {
      compiled = compileTemplateMatcher(text, { maxTopicLength: this.limits.maxTopicLength, maxStates });
    } catch (error) {
      if (!(error instanceof TemplateError) || error instanceof TemplateTooComplex) throw error;
      return undefined;
    }
    const selector: TopicSelector = {
      kind: "match",
      source: text,
      literal: compiled.literal,
      test: memoized((topic) => topic === text || compiled.matches(topic)),
    };
    const bytes = compiled.bytes + text.length * 4 + ENTRY_OVERHEAD;
    return { text, selector, bytes, size: compiled.size, refs: 0 };
  }
}

/** `*` and strings that are not templates; undefined for what may be a template. */
function plainSelector(text: string): TopicSelector | undefined {
  if (text === "*") return { kind: "all" };
  if (!looksLikeTemplate(text)) return { kind: "exact", topic: text };
  return undefined;
}

/**
 * Remembers the answers for the last few topics: replays and private checks ask a selector about
 * the same event once per subscriber, so a thousand subscribers of one template cost one match.
 */
function memoized(test: (topic: string) => boolean, size = 8): (topic: string) => boolean {
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
