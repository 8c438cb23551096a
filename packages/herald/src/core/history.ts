import type { ReplayResult, Visible } from "./bus.ts";
import { isControl } from "./control.ts";
import { type HeraldEvent, type PublishInput, utf8Length } from "./event.ts";
import { ForgottenIds } from "./forgotten.ts";
import { isLiveOnly } from "./live-only.ts";
import { sameContent } from "./stored-event.ts";

export interface HistoryOptions {
  /** Most events held; the oldest go first. */
  readonly maxEvents: number;
  /**
   * Most bytes held, counting each event as `eventSize` (its data's UTF-8 bytes plus its id, type
   * and topics); the oldest go first. An event larger than the whole bound is not held at all.
   * Absent or 0 = no byte bound.
   */
  readonly maxBytes?: number | undefined;
  /** Longest time an event is held, in ms (0 = no age limit). */
  readonly maxAgeMs: number;
  /** The clock (ms since the Unix epoch); tests pass their own. */
  readonly now?: () => number;
}

/** What an event counts for against `HistoryOptions.maxBytes`: its data's UTF-8 bytes plus its id, type and topics. */
export function eventSize(event: HeraldEvent): number {
  let size = utf8Length(event.data) + utf8Length(event.id);
  if (event.type !== undefined) size += utf8Length(event.type);
  for (const topic of event.topics) size += utf8Length(topic);
  return size;
}

/**
 * A bounded in-memory log of events in `pos` order, indexed by id and by publisher scope.
 * Contract: `add` must be called in increasing `pos` order (the bus's order). Eviction drops the
 * oldest events first: by count and bytes on `add`, by age on `add`/`trim`/`after`. Publisher ids
 * are indexed, hub ids are positions. Several held events may carry one publisher id (publishers in different scopes, or one publisher with other content):
 * `resolve` picks the earliest the caller may read. Lookups are O(1) by (scope, id), O(events
 * carrying the id) by id, O(log n) by position; a replay scans at most `limit` events.
 * Memory: at most `maxEvents` events, and stubs of at most `maxEvents` events that left (the last
 * ones to leave: topics and private flag, no data; `ForgottenIds`), so an id stays refused to
 * whoever could have seen its event for at least the next `maxEvents` evictions; and the positions
 * of the last `maxEvents` events to leave (8 bytes each: `rememberedFrom`).
 */
export class History {
  private readonly ring: (HeraldEvent | undefined)[];
  private readonly sizes: Float64Array;
  /** 1 where the event at that ring index is in `byId`/`byScope` (a publisher id): eviction skips the lookups for the others. */
  private readonly indexed: Uint8Array;
  private start = 0; // index of the oldest event in `ring`
  private count = 0;
  private bytes = 0;
  /** Every held event carrying an id, oldest first (one event, or an array when several). */
  private readonly byId = new Map<string, HeraldEvent | HeraldEvent[]>();
  /** The newest held event per scope (`""` = none) and id: what a retry is checked against. */
  private readonly byScope = new Map<string, Map<string, HeraldEvent>>();
  /**
   * The publisher ids of events no longer held (evicted, or too large to hold), with who could read
   * them (`ForgottenIds`: at most `maxEvents` stubs, oldest out). A resume from such an id is a miss
   * for a subscriber that could have seen the event that left, even when a newer held event carries
   * the id: resuming after the newer one would skip, silently, what came between (a reused id, e.g.
   * squatted by another publisher).
   */
  private readonly forgotten: ForgottenIds;
  /** The positions of the last `maxEvents` events that left (with a publisher id or not), oldest first (a ring). */
  private readonly left: Float64Array;
  private leftStart = 0;
  private leftCount = 0;
  private readonly maxBytes: number;
  private readonly now: () => number;

  constructor(private readonly options: HistoryOptions) {
    if (!(options.maxEvents >= 1)) throw new RangeError("history maxEvents must be at least 1");
    this.ring = new Array(options.maxEvents);
    this.sizes = new Float64Array(options.maxEvents);
    this.indexed = new Uint8Array(options.maxEvents);
    this.maxBytes = options.maxBytes !== undefined && options.maxBytes > 0 ? options.maxBytes : Infinity;
    this.now = options.now ?? Date.now;
    this.forgotten = new ForgottenIds(options.maxEvents);
    this.left = new Float64Array(options.maxEvents);
  }

  get size(): number {
    return this.count;
  }

  /** The bytes held, as `eventSize` counts them. */
  get byteSize(): number {
    return this.bytes;
  }

  /** True when some held event carries `id`. */
  holds(id: string): boolean {
    return this.byId.has(id);
  }

  /**
   * The earliest held event carrying `id` for which `visible` is true (default: any), or undefined.
   * Events `visible` refuses (private events the subscriber may not read) are never considered, so
   * the answer says nothing about them. Undefined too when an event carrying `id` left the history
   * and `seen` (default: `visible`; without either, any) accepts it: the subscriber could have seen
   * it. An event that left and that `seen` refuses counts for nothing, so the answer says nothing
   * about it either: the id resolves as if that event had never been.
   */
  resolve(id: string, visible?: Visible, seen: Visible | undefined = visible): HeraldEvent | undefined {
    if (this.forgotten.blocks(id, seen)) return undefined;
    const held = this.byId.get(id);
    if (held === undefined) return undefined;
    if (!Array.isArray(held)) return visible === undefined || visible(held) ? held : undefined;
    return visible === undefined ? held[0] : held.find((event) => visible(event));
  }

  /** The stubs (`ForgottenIds`) of the events carrying `id` that left the history, oldest first. */
  forgottenStubs(id: string): readonly HeraldEvent[] {
    return this.forgotten.stubs(id);
  }

  /** The held events carrying `id`, oldest first (none: empty). */
  carrying(id: string): readonly HeraldEvent[] {
    const held = this.byId.get(id);
    if (held === undefined) return [];
    return Array.isArray(held) ? held : [held];
  }

  /**
   * The held event `input` is a retry of: the newest event stored with the same scope and id, when
   * its content is the same (`sameContent`). Undefined for an input without id, or a new event.
   */
  retryOf(input: PublishInput): HeraldEvent | undefined {
    if (input.id === undefined) return undefined;
    const held = this.byScope.get(input.scope ?? "")?.get(input.id);
    return held !== undefined && sameContent(held, input) ? held : undefined;
  }

  newest(): HeraldEvent | undefined {
    return this.count === 0 ? undefined : this.at(this.count - 1);
  }

  oldest(): HeraldEvent | undefined {
    return this.count === 0 ? undefined : this.at(0);
  }

  /**
   * The position of the oldest event this history still knows of: the oldest of the last
   * `maxEvents` events that left it (whose ids it may still refuse), else the oldest held; undefined
   * when it never held one. A log bus keeps its log from there, so that a node that starts can load
   * what this one remembers (buses/redis-retention.ts).
   */
  rememberedFrom(): number | undefined {
    if (this.leftCount > 0) return this.left[this.leftStart] as number;
    return this.oldest()?.pos;
  }

  /**
   * Holds `event` (the newest; a control record and a live-only event, `isLiveOnly`, are not held). `publisherId`: the event's id is its publisher's; false for a hub id
   * `<epoch>-<pos>`, which names a position (found by `after`) and is not indexed by id.
   */
  add(event: HeraldEvent, publisherId = true): void {
    // a control record is never replayed: held, it would only push events out, and anyone may
    // cause one (a refused ticket, a change of an anonymous stream); presence's join and leave
    // events neither: anyone who opens and closes streams causes them
    if (isControl(event) || isLiveOnly(event)) return;
    const size = this.maxBytes === Infinity ? 0 : eventSize(event);
    if (this.count === this.ring.length) this.dropOldest();
    while (this.count > 0 && this.bytes + size > this.maxBytes) this.dropOldest();
    if (size > this.maxBytes) {
      // delivered, never held: a replay from it is a miss
      if (publisherId) this.forgotten.add(event);
      this.noteLeft(event.pos);
      return;
    }
    const index = (this.start + this.count) % this.ring.length;
    this.ring[index] = event;
    this.sizes[index] = size;
    this.indexed[index] = publisherId ? 1 : 0;
    this.count++;
    this.bytes += size;
    if (publisherId) this.index(event);
    this.trim();
  }

  /** The event at position `pos`, when held. */
  atPos(pos: number): HeraldEvent | undefined {
    const i = this.firstIndexAfter(pos - 1);
    const event = i < this.count ? this.at(i) : undefined;
    return event?.pos === pos ? event : undefined;
  }

  private index(event: HeraldEvent): void {
    const held = this.byId.get(event.id);
    if (held === undefined) this.byId.set(event.id, event);
    else if (Array.isArray(held)) held.push(event);
    else this.byId.set(event.id, [held, event]);
    const scope = event.scope ?? "";
    const ids = this.byScope.get(scope);
    if (ids === undefined) this.byScope.set(scope, new Map([[event.id, event]]));
    else ids.set(event.id, event);
  }

  /** Drops events older than max age. */
  trim(): void {
    if (this.options.maxAgeMs <= 0) return;
    const cutoff = this.now() - this.options.maxAgeMs;
    while (this.count > 0 && this.at(0).time < cutoff) this.dropOldest();
  }

  /**
   * The events after position `pos` (exclusive), in order; `missed/too-old` when more than `limit`
   * follow it. The caller has checked that `pos` is not older than what the history holds.
   */
  after(pos: number, limit: number, headId: string): ReplayResult {
    this.trim();
    const first = this.firstIndexAfter(pos);
    const n = this.count - first;
    if (n > limit) return { kind: "missed", reason: "too-old", headId };
    const events: HeraldEvent[] = new Array(n);
    for (let i = 0; i < n; i++) events[i] = this.at(first + i);
    return { kind: "events", events, after: pos };
  }

  private at(i: number): HeraldEvent {
    return this.ring[(this.start + i) % this.ring.length] as HeraldEvent;
  }

  private firstIndexAfter(pos: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).pos <= pos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private dropOldest(): void {
    const old = this.at(0);
    const wasIndexed = this.indexed[this.start] === 1;
    this.ring[this.start] = undefined;
    this.bytes -= this.sizes[this.start] as number;
    this.start = (this.start + 1) % this.ring.length;
    this.count--;
    this.noteLeft(old.pos);
    // a hub id names a position: never in the maps (and no publisher id can equal it: refuseHubIds)
    if (!wasIndexed) return;
    // the oldest event is the first of the events carrying its id
    const held = this.byId.get(old.id);
    if (held === old) {
      this.byId.delete(old.id);
      this.forgotten.add(old);
    } else if (Array.isArray(held) && held[0] === old) {
      held.shift();
      if (held.length === 1) this.byId.set(old.id, held[0] as HeraldEvent);
      this.forgotten.add(old);
    }
    const scope = old.scope ?? "";
    const ids = this.byScope.get(scope);
    if (ids?.get(old.id) === old) {
      ids.delete(old.id);
      if (ids.size === 0) this.byScope.delete(scope);
    }
  }

  private noteLeft(pos: number): void {
    const capacity = this.left.length;
    if (this.leftCount === capacity) {
      this.leftStart = (this.leftStart + 1) % capacity;
      this.leftCount--;
    }
    this.left[(this.leftStart + this.leftCount) % capacity] = pos;
    this.leftCount++;
  }
}
