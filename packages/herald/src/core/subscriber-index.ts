import type { Subscriber } from "./subscriber.ts";
import { anchorOf, isSeparator, type TopicSelector } from "./topic.ts";

/** The subscribers of one exact topic. */
export interface TopicEntry {
  /**
   * Subscriptions of this one topic with no private rights (`Subscriber.single`): a batch's bytes
   * for the topic are built once and shared by all of them (src/core/fanout.ts).
   */
  readonly singles: Set<Subscriber>;
  /** Every other subscriber with this exact topic among its selectors. */
  others: Set<Subscriber> | undefined;
}

/** A selector checked against topics, with the subscribers that share it. */
interface Checked {
  readonly selector: TopicSelector;
  readonly subscribers: Set<Subscriber>;
  /** What one check costs, in units of work (`TopicSelector` `cost`). */
  readonly cost: number;
  /** Removed from its anchor: skipped by iterations still holding the list it is in. */
  dead: boolean;
}

/** The pattern selectors that share one anchor (see `anchorOf`). */
interface AnchorEntry {
  /** Subscribers of the prefix selector equal to the anchor: every topic that reaches here matches. */
  readonly prefixed: Set<Subscriber>;
  /** Other selectors anchored here (templates, prefixes not ending with a separator): checked once per topic, each for all its subscribers. */
  readonly checked: Map<TopicSelector, Checked>;
  /**
   * The same, as a list (iterated on the fan-out path), with `dead` ones among them. A removal
   * only marks its entry dead; once they are half of the list, a new list without them replaces
   * it. The list is never reordered or shrunk in place, so a fan-out that paused in the middle
   * of it (between two event-loop turns) skips no live selector when it goes on.
   */
  list: Checked[];
  /** Dead entries in `list`. */
  dead: number;
}

/**
 * An empty group `patternGroups` yields after each `CHECK_SLICE` units of selector checks that
 * matched nothing, so that its caller can count the work and end its step there.
 */
const NOTHING: ReadonlySet<Subscriber> = new Set();
export const CHECK_SLICE = 1024;

/**
 * Where the hub finds the subscribers of a topic, without looking at any other subscriber.
 *
 * - exact topics: a map from topic to its subscribers;
 * - `*`: one set, every topic;
 * - prefixes (`orders/*`) and matchers with a literal prefix (Mercure templates): keyed by their
 *   anchor, the longest start of the prefix ending with `/`, `:` or `.`. A topic's candidate
 *   anchors are its starts that end with one of those, so a topic of length L costs at most L map
 *   lookups (only up to the longest anchor held), plus one `test` per matcher anchored there. A
 *   matcher with no anchor (a template that starts with a variable) is checked for every topic:
 *   the adapter bounds how many of those a client may hold (docs/limits.md).
 * - a matcher selector object shared by many subscribers is checked once per topic for all.
 *
 * Cost of `add`/`remove`: one map operation per selector. Nothing is left behind by `remove`.
 */
export class SubscriberIndex {
  readonly exact = new Map<string, TopicEntry>();
  private readonly all = new Set<Subscriber>();
  private readonly anchors = new Map<string, AnchorEntry>();
  /** Length of the longest anchor held since `anchors` was last empty: the walk of a topic stops there. */
  private longest = 0;
  /**
   * Work of the selector checks run so far, in units (`test` or `startsWith`: 1 each, or the
   * selector's `cost`): the fan-out counts it as work.
   */
  checks = 0;

  /** Map entries held (0 when nobody is subscribed: for leak checks). */
  get size(): number {
    return this.exact.size + this.anchors.size + (this.all.size > 0 ? 1 : 0);
  }

  /** True when some subscriber has a pattern selector (`*`, a prefix or a matcher). */
  get hasPatterns(): boolean {
    return this.all.size > 0 || this.anchors.size > 0;
  }

  add(subscriber: Subscriber, selectors: readonly TopicSelector[] = subscriber.selectors): void {
    for (const selector of selectors) {
      switch (selector.kind) {
        case "exact": {
          let entry = this.exact.get(selector.topic);
          if (entry === undefined) {
            entry = { singles: new Set(), others: undefined };
            this.exact.set(selector.topic, entry);
          }
          if (subscriber.single) entry.singles.add(subscriber);
          else {
            entry.others ??= new Set();
            entry.others.add(subscriber);
          }
          break;
        }
        case "all":
          this.all.add(subscriber);
          break;
        case "prefix": {
          const anchor = anchorOf(selector.prefix);
          const entry = this.anchor(anchor);
          if (anchor === selector.prefix) entry.prefixed.add(subscriber);
          else this.addChecked(entry, selector, subscriber);
          break;
        }
        case "match":
          this.addChecked(this.anchor(anchorOf(selector.literal ?? "")), selector, subscriber);
          break;
      }
    }
  }

  remove(subscriber: Subscriber, selectors: readonly TopicSelector[] = subscriber.selectors): void {
    for (const selector of selectors) {
      switch (selector.kind) {
        case "exact": {
          const entry = this.exact.get(selector.topic);
          if (entry === undefined) break;
          entry.singles.delete(subscriber);
          entry.others?.delete(subscriber);
          if (entry.others?.size === 0) entry.others = undefined;
          if (entry.singles.size === 0 && entry.others === undefined) this.exact.delete(selector.topic);
          break;
        }
        case "all":
          this.all.delete(subscriber);
          break;
        case "prefix":
        case "match": {
          const prefix = selector.kind === "prefix" ? selector.prefix : (selector.literal ?? "");
          const anchor = anchorOf(prefix);
          const entry = this.anchors.get(anchor);
          if (entry === undefined) break;
          if (selector.kind === "prefix" && anchor === prefix) entry.prefixed.delete(subscriber);
          else this.removeChecked(entry, selector, subscriber);
          if (entry.prefixed.size === 0 && entry.checked.size === 0) this.anchors.delete(anchor);
          if (this.anchors.size === 0) this.longest = 0;
          break;
        }
      }
    }
  }

  /**
   * Moves `subscriber` from the selectors `before` (and its single-ness `wasSingle`) to its
   * current `selectors`: only the entries of removed and added selectors change when it stays
   * single or not; otherwise its entries are moved (one map operation per selector, no rebuild).
   */
  change(subscriber: Subscriber, before: readonly TopicSelector[], wasSingle: boolean): void {
    if (wasSingle !== subscriber.single) {
      const now = subscriber.single;
      (subscriber as { single: boolean }).single = wasSingle;
      this.remove(subscriber, before);
      (subscriber as { single: boolean }).single = now;
      this.add(subscriber);
      return;
    }
    const after = subscriber.selectors;
    this.remove(
      subscriber,
      before.filter((selector) => !after.includes(selector)),
    );
    this.add(
      subscriber,
      after.filter((selector) => !before.includes(selector)),
    );
  }

  /**
   * The pattern subscribers of `topic`, as groups (a subscriber may be in several: the caller
   * skips what it already has). Exact subscribers are not included: see `exact`. Lazy: matchers
   * are checked as the caller iterates, and an empty group is yielded after every `CHECK_SLICE`
   * units of checks without a match, so the caller may pause (end its step) among the matchers of
   * one anchor; subscribers added or removed meanwhile are safe (see `AnchorEntry.list`).
   */
  *patternGroups(topic: string): Generator<ReadonlySet<Subscriber>, void, undefined> {
    if (this.all.size > 0) yield this.all;
    if (this.anchors.size === 0) return;
    const root = this.anchors.get("");
    if (root !== undefined) yield* this.groupsOf(root, topic);
    const end = Math.min(topic.length, this.longest);
    for (let i = 0; i < end; i++) {
      if (!isSeparator(topic.charCodeAt(i))) continue;
      const entry = this.anchors.get(topic.slice(0, i + 1));
      if (entry !== undefined) yield* this.groupsOf(entry, topic);
    }
  }

  private *groupsOf(entry: AnchorEntry, topic: string): Generator<ReadonlySet<Subscriber>, void, undefined> {
    if (entry.prefixed.size > 0) yield entry.prefixed;
    const list = entry.list;
    let slice = this.checks + CHECK_SLICE;
    for (let i = 0; i < list.length; i++) {
      const { selector, subscribers, cost, dead } = list[i] as Checked;
      if (dead) continue;
      this.checks += cost;
      if (
        selector.kind === "prefix"
          ? topic.startsWith(selector.prefix)
          : selector.kind === "match" && selector.test(topic)
      ) {
        slice = this.checks + CHECK_SLICE;
        yield subscribers;
      } else if (this.checks >= slice) {
        slice = this.checks + CHECK_SLICE;
        yield NOTHING;
      }
    }
  }

  private anchor(anchor: string): AnchorEntry {
    let entry = this.anchors.get(anchor);
    if (entry === undefined) {
      entry = { prefixed: new Set(), checked: new Map(), list: [], dead: 0 };
      this.anchors.set(anchor, entry);
      if (anchor.length > this.longest) this.longest = anchor.length;
    }
    return entry;
  }

  private addChecked(entry: AnchorEntry, selector: TopicSelector, subscriber: Subscriber): void {
    let checked = entry.checked.get(selector);
    if (checked === undefined) {
      const cost = selector.kind === "match" ? Math.max(1, selector.cost ?? 1) : 1;
      checked = { selector, subscribers: new Set(), cost, dead: false };
      entry.checked.set(selector, checked);
      entry.list.push(checked);
    }
    checked.subscribers.add(subscriber);
  }

  private removeChecked(entry: AnchorEntry, selector: TopicSelector, subscriber: Subscriber): void {
    const checked = entry.checked.get(selector);
    if (checked === undefined) return;
    checked.subscribers.delete(subscriber);
    if (checked.subscribers.size > 0) return;
    entry.checked.delete(selector);
    checked.dead = true;
    entry.dead++;
    if (entry.dead * 2 > entry.list.length) {
      entry.list = entry.list.filter((c) => !c.dead);
      entry.dead = 0;
    }
  }
}
