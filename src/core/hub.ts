import type { Bus, BusGap, MissedReason } from "./bus.ts";
import { encodeEvent } from "./encoder.ts";
import {
  DEFAULT_PUBLISH_LIMITS,
  type HeraldEvent,
  type PublishInput,
  type PublishLimits,
  validatePublish,
} from "./event.ts";
import { fanOutBatch, fanOutOne, type SubscriberIndex } from "./fanout.ts";
import { storeEvent } from "./stored-event.ts";
import { type CloseReason, type Sink, Subscriber } from "./subscriber.ts";
import { anySelectorMatches, type TopicSelector } from "./topic.ts";

export interface HubOptions {
  readonly bus: Bus;
  /** Most events one replay may send; further back is answered as "missed". */
  readonly replayLimit: number;
  /** Most bytes queued for one subscriber while its replay runs. */
  readonly maxPendingBytes: number;
  readonly limits?: PublishLimits;
  /**
   * Schedules the write of the events the bus delivered in this turn (the batching bound). The
   * server passes `setImmediate`: events that arrive during one event-loop iteration (all the I/O
   * callbacks of its poll phase) are written together at the end of that same iteration, never
   * later, and there is no timer. Default `queueMicrotask`: batches only what arrives within one
   * callback (one bus batch, one batch publish).
   */
  readonly defer?: (flush: () => void) => void;
  /** Topics whose published events are counted one by one (`counters.byTopic`); none by default, so metric labels stay bounded. */
  readonly countedTopics?: readonly string[];
  /**
   * Topics whose events are always private: a publish with a topic matching one is stored with
   * `private: true`, so every node and every replay filters it (HERALD_PRIVATE_TOPICS).
   */
  readonly privateTopics?: readonly TopicSelector[];
}

export interface PublishResult {
  readonly id: string;
  /** Local subscribers the event was written or queued to (for a retry: as the first time). */
  readonly queued: number;
  readonly duplicate: boolean;
}

export interface SubscribeRequest {
  readonly selectors: readonly TopicSelector[];
  readonly privateSelectors?: readonly TopicSelector[];
  readonly sink: Sink;
  /** Resume after this id (the client's Last-Event-ID); absent = live only. */
  readonly lastEventId?: string | undefined;
  /**
   * Called once the history has answered a resume and before anything is written to the sink (so
   * a server can still set response headers, e.g. Mercure's `Last-Event-ID`). Not called without
   * `lastEventId`. Must not throw.
   */
  readonly onResume?: (outcome: ResumeOutcome) => void;
}

/** How a resume went: replayed from the id, or the id could not be resumed from (`missed`). */
export type ResumeOutcome =
  | { readonly kind: "replay" }
  | { readonly kind: "missed"; readonly reason: MissedReason; readonly headId: string };

/** The event type of the documented "events may have been missed" signal (docs/concepts.md). */
export const MISSED_EVENT_TYPE = "herald.missed";

export interface HubCounters {
  published: number;
  delivered: number;
  replayed: number;
  slowDisconnects: number;
  missedSignals: number;
  /** Events queued for a subscriber and thrown away when it was cut off as slow (the server adds its own queue's). */
  dropped: number;
  /** Subscribers registered since start. */
  subscribed: number;
  /** Subscribers removed since start, by reason (a closed set: bounded metric labels). */
  closed: Record<CloseReason, number>;
  /** Events published per topic, for the topics in `HubOptions.countedTopics` only. */
  byTopic: Map<string, number>;
}

/**
 * The hub: routes events from the bus to subscribers and runs replays.
 *
 * Ordering: events reach each subscriber in bus order, each at most once (`Subscriber.lastPos`).
 * Replay joins the live stream with no gap: the subscriber is registered (queuing live events)
 * before history is read, then released.
 * Fan-out cost: exact topics are found through a map; only subscribers with pattern selectors are
 * checked one by one.
 * Batching: events the bus hands over are held until `defer` runs the flush (at most the end of the
 * current event-loop turn with the server's `setImmediate`; see `HubOptions.defer`); then each
 * subscriber gets all of its events in one write (src/core/fanout.ts). A publish is answered only
 * after the flush that wrote its events, so an answer still means "written to local subscribers".
 */
export class Hub {
  private readonly bus: Bus;
  private readonly exact = new Map<string, Set<Subscriber>>();
  private readonly patterns = new Set<Subscriber>();
  private readonly index: SubscriberIndex = { exact: this.exact, patterns: this.patterns };
  private readonly defer: (flush: () => void) => void;
  /** Events delivered by the bus and not yet written (this turn's batch). */
  private turn: HeraldEvent[] = [];
  private turnDone: Promise<void> | undefined;
  private endTurn: (() => void) | undefined;
  private readonly all = new Set<Subscriber>();
  private readonly queuedCounts = new WeakMap<HeraldEvent, number>();
  private readonly limits: PublishLimits;
  private newestId: string | undefined;
  readonly counters: HubCounters = {
    published: 0,
    delivered: 0,
    replayed: 0,
    slowDisconnects: 0,
    missedSignals: 0,
    dropped: 0,
    subscribed: 0,
    closed: { "client-closed": 0, slow: 0, shutdown: 0, expired: 0, error: 0 },
    byTopic: new Map(),
  };
  private selectorTotal = 0;
  private lastPublicId: string | undefined;

  constructor(private readonly options: HubOptions) {
    this.bus = options.bus;
    this.limits = options.limits ?? DEFAULT_PUBLISH_LIMITS;
    this.defer = options.defer ?? queueMicrotask;
    for (const topic of options.countedTopics ?? []) this.counters.byTopic.set(topic, 0);
  }

  /**
   * Starts tailing the bus. When the bus reports its log lost, every stream ends (clients resume).
   * When it reports a gap (events lost before this node read them), every stream is told.
   */
  start(): Promise<void> {
    return this.bus.start(
      (events) => this.deliver(events),
      () => this.closeAll("error"),
      (events) => this.countsOf(events),
      (gap) => this.gap(gap),
    );
  }

  /**
   * The bus lost events before delivering them here: every subscriber gets `herald.missed` (reason
   * `gap`) in its stream after the events before the gap and before those after it (the signal
   * takes the gap's position, so ordering and `lastPos` hold; a subscriber still replaying gets it
   * when released). Its id is the gap's `resumeId`: a client that resumes from it gets what follows.
   * The events handed over before the gap are written first.
   */
  private gap(gap: BusGap): void {
    this.flush();
    const data: Record<string, unknown> = { lastEventId: gap.after, reason: "gap" };
    if (gap.count !== undefined) data.missed = gap.count;
    const signal = storeEvent(
      { topics: [], data: JSON.stringify(data), type: MISSED_EVENT_TYPE },
      gap.pos,
      gap.resumeId,
      0,
    );
    for (const subscriber of this.all) if (subscriber.offer(signal)) this.counters.missedSignals++;
  }

  /** Id of the newest event this node received from the bus; undefined before the first. */
  get lastEventId(): string | undefined {
    return this.newestId;
  }

  get subscriberCount(): number {
    return this.all.size;
  }

  /** Topic selectors over all subscribers (a subscriber of `a` and `b/*` counts 2). */
  get selectorCount(): number {
    return this.selectorTotal;
  }

  /**
   * Where a live-only subscriber registered in this tick stands: resuming after this id replays
   * exactly the events it would have received. The bus's `headId()` (a position that reveals
   * nothing), else the id of the last non-private event delivered on this node (like Mercure's
   * Last-Event-ID response header), else undefined (nothing delivered yet).
   */
  get resumePoint(): string | undefined {
    return this.bus.headId?.() ?? this.lastPublicId;
  }

  /** Exact-topic index entries (for leak checks: 0 when nobody is subscribed). */
  get indexSize(): number {
    return this.exact.size + this.patterns.size;
  }

  /** Checks one input against the hub's limits; throws `bad_request` naming the problem. */
  validate(input: PublishInput): void {
    validatePublish(input, this.limits);
  }

  /** Validates, stores (through the bus) and delivers. Rejects with HeraldError; nothing is stored then. */
  async publish(inputs: readonly PublishInput[]): Promise<PublishResult[]> {
    for (const input of inputs) validatePublish(input, this.limits);
    const privateTopics = this.options.privateTopics ?? [];
    const marked =
      privateTopics.length === 0
        ? inputs
        : inputs.map((input) =>
            input.private !== true && anySelectorMatches(privateTopics, input.topics)
              ? { ...input, private: true }
              : input,
          );
    const results = await this.bus.append(marked);
    if (this.turnDone !== undefined) await this.turnDone;
    return results.map(({ event, duplicate, queued }) => ({
      id: event.id,
      queued: queued ?? this.queuedCounts.get(event) ?? 0,
      duplicate,
    }));
  }

  /** Registers a subscriber, replays what it missed when it resumes, then streams live events. */
  async subscribe(request: SubscribeRequest): Promise<Subscriber> {
    const subscriber = new Subscriber({
      selectors: request.selectors,
      privateSelectors: request.privateSelectors,
      sink: request.sink,
      maxPendingBytes: this.options.maxPendingBytes,
    });
    this.register(subscriber);
    // A live-only subscriber starts after what the bus already handed over (even if this turn's
    // batch is not written yet): it gets exactly the events stored after it joined, as before batching.
    if (request.lastEventId === undefined && this.turn.length > 0) {
      subscriber.lastPos = (this.turn[this.turn.length - 1] as HeraldEvent).pos;
    }
    if (request.lastEventId !== undefined) {
      try {
        // a publisher id resolves only to an event this subscriber may receive (Bus.replay)
        const visible = (event: HeraldEvent) => subscriber.accepts(event);
        const result = await this.bus.replay(request.lastEventId, this.options.replayLimit, visible);
        if (subscriber.closed) return subscriber;
        request.onResume?.(
          result.kind === "events"
            ? { kind: "replay" }
            : { kind: "missed", reason: result.reason, headId: result.headId },
        );
        if (result.kind === "events") {
          for (const event of result.events) {
            if (subscriber.closed) return subscriber;
            const outcome = subscriber.replayed(event);
            if (outcome === "skipped") continue;
            this.counters.replayed++;
            if (outcome === "full") await subscriber.sink.drained();
          }
        } else {
          this.counters.missedSignals++;
          subscriber.sink.write(missedEvent(request.lastEventId, result.reason, result.headId));
        }
      } catch (error) {
        this.unsubscribe(subscriber, "error");
        throw error;
      }
    }
    subscriber.release();
    return subscriber;
  }

  /** Removes a subscriber and ends its sink. Idempotent; leaves no index entry behind. */
  unsubscribe(subscriber: Subscriber, reason: CloseReason): void {
    if (subscriber.closed) return;
    subscriber.closed = true;
    if (reason === "slow") {
      this.counters.slowDisconnects++;
      this.counters.dropped += subscriber.pendingCount;
    }
    this.counters.closed[reason]++;
    this.selectorTotal -= subscriber.selectors.length;
    this.all.delete(subscriber);
    this.patterns.delete(subscriber);
    for (const selector of subscriber.selectors) {
      if (selector.kind !== "exact") continue;
      const set = this.exact.get(selector.topic);
      if (set === undefined) continue;
      set.delete(subscriber);
      if (set.size === 0) this.exact.delete(selector.topic);
    }
    subscriber.sink.end(reason);
  }

  /** Ends every stream (shutdown). */
  closeAll(reason: CloseReason): void {
    this.flush();
    for (const subscriber of [...this.all]) this.unsubscribe(subscriber, reason);
  }

  private register(subscriber: Subscriber): void {
    this.all.add(subscriber);
    this.counters.subscribed++;
    this.selectorTotal += subscriber.selectors.length;
    for (const selector of subscriber.selectors) {
      if (selector.kind !== "exact") {
        this.patterns.add(subscriber);
        continue;
      }
      let set = this.exact.get(selector.topic);
      if (set === undefined) {
        set = new Set();
        this.exact.set(selector.topic, set);
      }
      set.add(subscriber);
    }
  }

  private countTopics(event: HeraldEvent): void {
    for (const topic of event.topics) {
      const n = this.counters.byTopic.get(topic);
      if (n !== undefined) this.counters.byTopic.set(topic, n + 1);
    }
  }

  /** The bus listener: queues the events for this turn's flush. */
  private deliver(events: readonly HeraldEvent[]): void {
    if (events.length === 0) return;
    for (const event of events) {
      this.turn.push(event);
      this.counters.published++;
      if (!event.private) this.lastPublicId = event.id;
      if (this.counters.byTopic.size > 0) this.countTopics(event);
      this.newestId = event.id;
    }
    if (this.turnDone !== undefined) return;
    this.turnDone = new Promise((resolve) => {
      this.endTurn = resolve;
    });
    this.defer(() => this.flush());
  }

  /** Writes this turn's events (see `fanOutBatch`). Safe to call at any time; a no-op when empty. */
  flush(): void {
    const events = this.turn;
    const endTurn = this.endTurn;
    this.turn = [];
    this.turnDone = undefined;
    this.endTurn = undefined;
    if (events.length === 1) {
      const event = events[0] as HeraldEvent;
      this.count(event, fanOutOne(this.index, event));
    } else if (events.length > 1) {
      const counts = fanOutBatch(this.index, events);
      for (let i = 0; i < events.length; i++) this.count(events[i] as HeraldEvent, counts[i] as number);
    }
    endTurn?.();
  }

  /** How many local subscribers each of `events` was queued for, once this turn has written them. */
  private async countsOf(events: readonly HeraldEvent[]): Promise<readonly number[]> {
    if (this.turnDone !== undefined) await this.turnDone;
    return events.map((event) => this.queuedCounts.get(event) ?? 0);
  }

  private count(event: HeraldEvent, queued: number): void {
    this.counters.delivered += queued;
    this.queuedCounts.set(event, queued);
  }
}

function missedEvent(lastEventId: string, reason: MissedReason, headId: string): Uint8Array {
  return encodeEvent({ id: headId, type: MISSED_EVENT_TYPE, data: JSON.stringify({ lastEventId, reason }) });
}
