import type { AppendResult, Bus, BusGap, LiveStart, MissedReason } from "./bus.ts";
import { CONTROL_TOPIC, CONTROL_TYPE, type ControlListener, isControl } from "./control.ts";
import { encodeEvent } from "./encoder.ts";
import { badRequest } from "./errors.ts";
import {
  DEFAULT_PUBLISH_LIMITS,
  type HeraldEvent,
  type PublishInput,
  type PublishLimits,
  validatePublish,
} from "./event.ts";
import { DEFAULT_STEP_WORK, FanOut } from "./fanout.ts";
import { refuseHubId } from "./ids.ts";
import { topicsLine } from "./matched.ts";
import { storeEvent } from "./stored-event.ts";
import { type CloseReason, isSingle, mayRead, receives, type Sink, Subscriber } from "./subscriber.ts";
import { SubscriberIndex } from "./subscriber-index.ts";
import { anySelectorMatches, selectorsCost, type TopicSelector } from "./topic.ts";

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
   * callback (one bus batch, one batch publish). A replay also waits for it between its steps
   * (`stepWork`).
   */
  readonly defer?: (flush: () => void) => void;
  /**
   * Most work one fan-out step may do before the hub yields (the rest goes out in the next steps,
   * one per `defer`), in units of about one subscriber check; a write counts 128 units plus one per
   * 256 bytes (see `FanOut`). Default 100,000: about 10 ms of CPU on a small machine.
   */
  readonly stepWork?: number;
  /** Topics whose published events are counted one by one (`counters.byTopic`); none by default, so metric labels stay bounded. */
  readonly countedTopics?: readonly string[];
  /**
   * Topics whose events are always private: a publish with a topic matching one is stored with
   * `private: true`, so every node and every replay filters it (HERALD_PRIVATE_TOPICS).
   */
  readonly privateTopics?: readonly TopicSelector[];
}

/** Positions whose local `queued` count the hub keeps (a retry answers as the first time within them). */
const QUEUED_KEEP = 65_536;

export interface PublishResult {
  readonly id: string;
  /**
   * Local subscribers the event was written or queued to (for a retry: as the first time, when the
   * event is among the last 65,536 positions; 0 for an older one).
   */
  readonly queued: number;
  readonly duplicate: boolean;
}

/**
 * Which held event a resume from an id that several events carry starts after, among those the
 * subscriber may read (never a private event it may not read: that id is unknown to it):
 * - `"own-topics-first"` (Herald's API): the earliest on the subscriber's own topics, and only when
 *   none is there, the earliest on any topic. Another publisher's reuse of the id on a topic the
 *   subscriber does not follow (a squat) moves nothing.
 * - `"earliest"` (Mercure, spec "Reconnection"): the earliest in the history, whatever its topic:
 *   never a gap, and the later carriers are replayed too.
 */
export type ReusedIds = "own-topics-first" | "earliest";

export interface SubscribeRequest {
  readonly selectors: readonly TopicSelector[];
  readonly privateSelectors?: readonly TopicSelector[];
  readonly sink: Sink;
  /** Resume after this id (the client's Last-Event-ID); absent = live only. */
  readonly lastEventId?: string | undefined;
  /** Which of the held events carrying `lastEventId` a resume starts after (default own-topics-first). */
  readonly reusedIds?: ReusedIds | undefined;
  /**
   * A live-only subscriber's start, from `Hub.liveStart` asked before it opened: it gets only
   * events after that position, even those this node has not received yet (its tail lags).
   */
  readonly liveStart?: LiveStart | undefined;
  /**
   * Called once the history has answered a resume and before anything is written to the sink (so
   * a server can still set response headers, e.g. Mercure's `Last-Event-ID`). Not called without
   * `lastEventId`. Must not throw.
   */
  readonly onResume?: (outcome: ResumeOutcome) => void;
  /**
   * Tag every event written to it with the selectors that matched it (src/core/matched.ts);
   * default false.
   */
  readonly matched?: boolean | undefined;
  /**
   * Called with the subscriber as soon as it is registered, before its replay: from then on
   * `resubscribe` may change it (a live change of topics can come while the replay runs).
   */
  readonly onRegistered?: (subscriber: Subscriber) => void;
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
 * Fan-out cost: subscribers are found through an index (src/core/subscriber-index.ts): exact topics
 * and prefixes through maps, matchers (Mercure templates) by their literal prefix, each shared
 * matcher checked once per topic; no subscriber is looked at for a topic it cannot match.
 * Batching: events the bus hands over are held until `defer` runs the flush (at most the end of the
 * current event-loop turn with the server's `setImmediate`; see `HubOptions.defer`); then each
 * subscriber gets all of its events in one write (src/core/fanout.ts).
 * Never blocking the loop for long: the write is done in steps of at most `stepWork` units of work
 * (default 100,000, about 10 ms here: a unit is about one subscriber check, a write 128 units plus
 * one per 256 bytes), plus one write or one anchor's selector checks that cannot be split; one step
 * per `defer` turn, so I/O (other requests, /healthz) runs between the steps of a big batch. Events handed over while
 * a fan-out runs are written after it, so the order per subscriber stays the bus order.
 * A publish is answered only after its events were written (the step that completed the last of
 * them), so an answer still means "written to local subscribers".
 */
export class Hub {
  private readonly bus: Bus;
  private readonly index = new SubscriberIndex();
  private readonly defer: (flush: () => void) => void;
  /** Events delivered by the bus and not yet taken by a fan-out (the next batch). */
  private turn: HeraldEvent[] = [];
  /** The fan-out being written, step by step. */
  private job: FanOut | undefined;
  private scheduled = false;
  /** Work the replays did in this turn (their shared budget is `stepWork`). */
  private replayed = 0;
  /** Replays waiting for a turn, first come first served: one resumes per turn. */
  private readonly replayQueue: (() => void)[] = [];
  private replayTurnScheduled = false;
  /** Position of the last event the bus handed over, and of the last one completely written. */
  private handedPos = 0;
  private writtenPos = 0;
  /** Publishes (and cluster counts) waiting for their events to be written. */
  private waiters: { readonly pos: number; readonly resolve: () => void }[] = [];
  private readonly all = new Set<Subscriber>();
  /**
   * How many local subscribers the events of the last QUEUED_KEEP positions were written or queued
   * to, by `pos % QUEUED_KEEP` (with the position, to know a slot's event): no allocation, no weak
   * map for the garbage collector to walk. A retry of an older event answers 0.
   */
  private readonly queuedPos = new Float64Array(QUEUED_KEEP);
  private readonly queuedCount = new Uint32Array(QUEUED_KEEP);
  private readonly limits: PublishLimits;
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
  /** Control records among `turn` (0 on the hot path: no scan for them). */
  private controlsInTurn = 0;
  /** Where control records go (src/api/stream-control.ts); none: they are dropped. */
  private controlListener: ControlListener | undefined;

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

  /**
   * Where a live-only stream opened after this resolves starts (`Bus.liveHead`): ask it before
   * the stream counts as open (its head is written), then pass it to `subscribe` and
   * `resumePointFrom`. Undefined (no promise: nothing to wait for) when the bus never lags
   * (memory; `--workers`: a worker gets a connection on the channel that brings it the events, after
   * them); a promise of undefined when it cannot tell now. Either way the stream
   * then starts after what this node received.
   */
  liveStart(): Promise<LiveStart | undefined> | undefined {
    return this.bus.liveHead?.();
  }

  /** `resumePoint`, or the live start's id when that is ahead of this node (its tail lags). */
  resumePointFrom(start: LiveStart | undefined): string | undefined {
    const point = this.resumePoint;
    return start !== undefined && point !== undefined && start.pos > this.handedPos ? start.id : point;
  }

  /** Index entries (for leak checks: 0 when nobody is subscribed). */
  get indexSize(): number {
    return this.index.size;
  }

  /**
   * Every check `publish` makes of one input, for a route to make before it charges anything (a
   * batch names the bad event): the hub's limits, the hub's own control topic, and an id of the
   * form the hub makes (`Bus.currentEpoch`; the bus refuses those again). Throws `bad_request` (413
   * for data over the size limit) naming the problem.
   */
  validate(input: PublishInput): void {
    validatePublish(input, this.limits);
    if (input.topics.includes(CONTROL_TOPIC)) {
      throw badRequest(
        `topic ${JSON.stringify(CONTROL_TOPIC)} is reserved for the hub's own records; choose another`,
      );
    }
    refuseHubId(input.id, this.bus.currentEpoch?.());
  }

  /** Validates, stores (through the bus) and delivers. Rejects with HeraldError; nothing is stored then. */
  async publish(inputs: readonly PublishInput[]): Promise<PublishResult[]> {
    for (const input of inputs) this.validate(input);
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
    const wait = this.written(results);
    if (wait !== undefined) await wait;
    const answers: PublishResult[] = new Array(results.length);
    for (let i = 0; i < results.length; i++) {
      const { event, duplicate } = results[i] as AppendResult;
      answers[i] = { id: event.id, queued: this.queuedOf(event), duplicate };
    }
    return answers;
  }

  /**
   * Sets where control records go (`ControlListener`: applied at their log position). One
   * listener; set before streams open.
   */
  onControl(listener: ControlListener): void {
    this.controlListener = listener;
  }

  /**
   * Appends a control record (`data`: its JSON) to the log; resolves once stored. It reaches the
   * control listener of every node (this one too) at its position. Rejects like `publish`.
   */
  async appendControl(data: string): Promise<void> {
    await this.bus.append([{ topics: [CONTROL_TOPIC], type: CONTROL_TYPE, data, private: true }]);
  }

  /**
   * Changes what `subscriber` receives from now on (called by the control listener, at the
   * record's position: every event before it was routed with the old selectors, every event after
   * it is routed with the new ones). Updates the index for this subscriber only. A `matched`
   * subscriber whose selectors changed is written its new list (`topicsLine`) at once: every event
   * before it was written, and every event after it is tagged, against the list of its time (a
   * control record is applied between fan-out jobs, so nothing it collected waits unwritten).
   */
  resubscribe(
    subscriber: Subscriber,
    selectors: readonly TopicSelector[],
    privateSelectors: readonly TopicSelector[] = subscriber.privateSelectors,
  ): void {
    if (subscriber.closed) return;
    const before = subscriber.selectors;
    const wasSingle = subscriber.single;
    this.selectorTotal += selectors.length - before.length;
    subscriber.selectors = selectors;
    subscriber.privateSelectors = privateSelectors;
    subscriber.single = !subscriber.matched && isSingle(selectors, privateSelectors);
    this.index.change(subscriber, before, wasSingle);
    if (subscriber.matched && selectors !== before) subscriber.sink.write(topicsLine(selectors));
  }

  /**
   * The history after held id `id` (`Bus.replay`), for a subscriber that `receives` on its topics
   * and rights and `reads` events of any topic its rights allow. With `reusedIds` "earliest"
   * (Mercure), the id resolves to the earliest event carrying it that the subscriber may read.
   * Otherwise (Herald's API) the id is looked for first among
   * the events it receives: another publisher's reuse of that id on another topic cannot move its
   * resume point (no duplicate, no gap). Only when none carries it, among every event it may read,
   * whatever the topic: a cursor from another topic (Mercure's hub-wide ids, a topic removed since)
   * resumes there. An id that only events it may not read carry is unknown-id, as one never held.
   * What is replayed after it is filtered by `receives` (`Subscriber.replayed`). Two reads of the
   * history only for an id its topics do not hold. In both, an event with that id that left the
   * history blocks the id when it could have READ it (`reads`, any topic: it may have seen it
   * before a topic change), and only then: another's private event that left reveals nothing.
   */
  private async replayAfter(
    id: string,
    receives: (event: HeraldEvent) => boolean,
    reads: (event: HeraldEvent) => boolean,
    reusedIds: ReusedIds = "own-topics-first",
  ): Promise<Awaited<ReturnType<Bus["replay"]>>> {
    if (reusedIds === "earliest") return this.bus.replay(id, this.options.replayLimit, reads);
    const own = await this.bus.replay(id, this.options.replayLimit, receives, reads);
    if (own.kind !== "missed" || own.reason !== "unknown-id") return own;
    return this.bus.replay(id, this.options.replayLimit, reads);
  }

  /**
   * How a resume of `request` from `request.lastEventId` would go now, the answer `onResume` of
   * `subscribe` would get, without registering a subscriber or replaying anything (HEAD of a
   * Mercure stream, whose head carries the outcome). Reads the history as that resume would
   * (`Bus.replay`, up to the replay limit); rejects as it would.
   */
  async resumeOutcome(
    request: Pick<SubscribeRequest, "selectors" | "privateSelectors" | "reusedIds"> & {
      readonly lastEventId: string;
    },
  ): Promise<ResumeOutcome> {
    const { selectors, privateSelectors = [], lastEventId } = request;
    const result = await this.replayAfter(
      lastEventId,
      (event) => receives(selectors, privateSelectors, event),
      (event) => mayRead(privateSelectors, event),
      request.reusedIds,
    );
    return result.kind === "events"
      ? { kind: "replay" }
      : { kind: "missed", reason: result.reason, headId: result.headId };
  }

  /** Registers a subscriber, replays what it missed when it resumes, then streams live events. */
  async subscribe(request: SubscribeRequest): Promise<Subscriber> {
    const subscriber = new Subscriber({
      selectors: request.selectors,
      privateSelectors: request.privateSelectors,
      sink: request.sink,
      maxPendingBytes: this.options.maxPendingBytes,
      matched: request.matched,
    });
    this.register(subscriber);
    request.onRegistered?.(subscriber);
    // A live-only subscriber starts after what the bus already handed over (even if this turn's
    // batch is not written yet): it gets exactly the events stored after it joined, as before batching.
    if (request.lastEventId === undefined && this.handedPos > this.writtenPos) {
      subscriber.lastPos = this.handedPos;
    }
    // ... and after what the broker held when it was asked, which this node may not have received
    const start = request.lastEventId === undefined ? request.liveStart : undefined;
    if (start !== undefined && start.pos > subscriber.lastPos) subscriber.lastPos = start.pos;
    if (request.lastEventId !== undefined) {
      try {
        const result = await this.replayAfter(
          request.lastEventId,
          (event) => subscriber.accepts(event),
          (event) => subscriber.mayRead(event),
          request.reusedIds,
        );
        if (subscriber.closed) return subscriber;
        request.onResume?.(
          result.kind === "events"
            ? { kind: "replay" }
            : { kind: "missed", reason: result.reason, headId: result.headId },
        );
        if (result.kind === "events") {
          // live events this node's tail read while the replay waited for it to reach the resume
          // point (a node behind the log) are at or before it: the subscriber saw them elsewhere
          if (result.after > subscriber.lastPos) subscriber.lastPos = result.after;
          // a budget estimate: the selectors at the replay's start (a topic change meanwhile only
          // moves where the replay yields)
          const cost = replayCost(subscriber);
          for (const event of result.events) {
            if (subscriber.closed) return subscriber;
            // at most a step's work of all replays together per event-loop turn: costly
            // matchers (Mercure URL patterns) over a long history must not hold the loop
            const wait = this.replayWork(1 + event.topics.length * cost);
            if (wait !== undefined) {
              await wait;
              if (subscriber.closed) return subscriber;
            }
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

  /**
   * Counts `units` of replay work against this turn's budget, shared by every replay running
   * (`stepWork`, the fan-out's step): undefined = go on; a promise = the budget is spent, wait
   * for it (the replay then resumes in a later turn, after those that waited before it).
   */
  private replayWork(units: number): Promise<void> | undefined {
    if (this.replayed < (this.options.stepWork ?? DEFAULT_STEP_WORK)) {
      this.replayed += units;
      return undefined;
    }
    return new Promise<void>((resolve) => {
      this.replayQueue.push(resolve);
      this.scheduleReplayTurn();
    }).then(() => {
      this.replayed += units;
    });
  }

  private scheduleReplayTurn(): void {
    if (this.replayTurnScheduled) return;
    this.replayTurnScheduled = true;
    this.defer(() => {
      this.replayTurnScheduled = false;
      this.replayed = 0;
      this.replayQueue.shift()?.();
      if (this.replayQueue.length > 0) this.scheduleReplayTurn();
    });
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
    this.index.remove(subscriber);
    subscriber.sink.end(reason);
  }

  /** Ends every stream (shutdown, or the bus's log was lost: positions may restart after it). */
  closeAll(reason: CloseReason): void {
    this.flush();
    for (const subscriber of [...this.all]) this.unsubscribe(subscriber, reason);
    this.handedPos = 0;
    this.writtenPos = 0;
    this.queuedPos.fill(0); // positions may start again from 1
  }

  private register(subscriber: Subscriber): void {
    this.all.add(subscriber);
    this.counters.subscribed++;
    this.selectorTotal += subscriber.selectors.length;
    this.index.add(subscriber);
  }

  private countTopics(event: HeraldEvent): void {
    for (const topic of event.topics) {
      const n = this.counters.byTopic.get(topic);
      if (n !== undefined) this.counters.byTopic.set(topic, n + 1);
    }
  }

  /** The bus listener: queues the events for the next fan-out step. */
  private deliver(events: readonly HeraldEvent[]): void {
    if (events.length === 0) return;
    for (const event of events) {
      this.turn.push(event);
      if (isControl(event)) {
        this.controlsInTurn++;
        continue;
      }
      this.counters.published++;
      if (!event.private) this.lastPublicId = event.id;
      if (this.counters.byTopic.size > 0) this.countTopics(event);
    }
    this.handedPos = (events[events.length - 1] as HeraldEvent).pos;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      if (this.step()) this.schedule();
    });
  }

  /**
   * Writes every event handed over and not yet written, now, without yielding (shutdown). Safe to
   * call at any time; a no-op when nothing waits.
   */
  flush(): void {
    while (this.step()) {}
  }

  /** One fan-out step (see `FanOut`); answers true when more remains. */
  private step(): boolean {
    if (this.job === undefined) {
      if (this.turn.length === 0) return false;
      let events = this.turn;
      this.turn = [];
      if (this.controlsInTurn > 0) {
        // a control record is a barrier: what precedes it is written first, then it is applied
        const at = events.findIndex(isControl);
        if (at === 0) {
          this.applyControl(events[0] as HeraldEvent);
          this.turn = events.slice(1);
          return this.turn.length > 0;
        }
        if (at > 0) {
          this.turn = events.slice(at);
          events = events.slice(0, at);
        }
      }
      this.job = new FanOut(this.index, events, this.options.stepWork ?? DEFAULT_STEP_WORK);
    }
    const job = this.job;
    const before = job.done;
    const finished = job.step();
    for (let i = before; i < job.done; i++) this.count(job.events[i] as HeraldEvent, job.counts[i] as number);
    if (job.done > 0) this.writtenPos = (job.events[job.done - 1] as HeraldEvent).pos;
    if (finished) this.job = undefined;
    if (this.waiters.length > 0) this.wake();
    return this.job !== undefined || this.turn.length > 0;
  }

  private applyControl(record: HeraldEvent): void {
    this.controlsInTurn--;
    this.writtenPos = record.pos;
    try {
      this.controlListener?.(record);
    } catch {
      // the listener's contract is not to throw; a bug there must not stop the fan-out
    }
    if (this.waiters.length > 0) this.wake();
  }

  /** Resolves the waiters whose events are all written. */
  private wake(): void {
    const still: typeof this.waiters = [];
    for (const waiter of this.waiters) {
      if (waiter.pos <= this.writtenPos) waiter.resolve();
      else still.push(waiter);
    }
    this.waiters = still;
  }

  /**
   * Resolves once `events` are written to the local subscribers: at once when they are already
   * written, or not handed over by the bus yet (then there is nothing local to wait for).
   */
  private written(results: readonly { readonly event: HeraldEvent }[]): Promise<void> | undefined {
    let pos = 0;
    for (const { event } of results) if (event.pos > pos) pos = event.pos;
    if (pos <= this.writtenPos || pos > this.handedPos) return undefined;
    return new Promise((resolve) => this.waiters.push({ pos, resolve }));
  }

  private count(event: HeraldEvent, queued: number): void {
    this.counters.delivered += queued;
    const slot = event.pos % QUEUED_KEEP;
    this.queuedPos[slot] = event.pos;
    this.queuedCount[slot] = queued;
  }

  private queuedOf(event: HeraldEvent): number {
    const slot = event.pos % QUEUED_KEEP;
    return this.queuedPos[slot] === event.pos ? (this.queuedCount[slot] as number) : 0;
  }
}

function missedEvent(lastEventId: string, reason: MissedReason, headId: string): Uint8Array {
  return encodeEvent({ id: headId, type: MISSED_EVENT_TYPE, data: JSON.stringify({ lastEventId, reason }) });
}

/** Work units of checking one topic of a replayed event for `subscriber` (its selectors and rights). */
function replayCost(subscriber: Subscriber): number {
  return selectorsCost(subscriber.selectors) + selectorsCost(subscriber.privateSelectors);
}
