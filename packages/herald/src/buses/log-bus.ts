import {
  type AppendResult,
  type Bus,
  type BusGap,
  type BusStatus,
  EARLIEST,
  type LiveStart,
  type ReplayResult,
  type Visible,
} from "../core/bus.ts";
import { badRequest, HeraldError } from "../core/errors.ts";
import {
  DEFAULT_PUBLISH_LIMITS,
  type HeraldEvent,
  type PublishInput,
  type PublishLimits,
  validatePublish,
} from "../core/event.ts";
import { History, type HistoryOptions } from "../core/history.ts";
import { formatHubId, parseHubId, refuseHubIds } from "../core/ids.ts";
import { replayHistory } from "../core/log-replay.ts";
import { storeEvent } from "../core/stored-event.ts";
import { anySelectorMatches, type TopicSelector } from "../core/topic.ts";
import { busClosing, sleep } from "./retry.ts";

/** The few log calls a bus makes (pino's `Logger` fits). */
export interface BusLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const SILENT_LOG: BusLog = { info() {}, warn() {}, error() {} };

export interface LogBusOptions {
  /** The local copy of the shared log that replays are served from (same settings on every node). */
  readonly history: HistoryOptions;
  /** Limits that events written straight to the broker (ingest) are checked against. */
  readonly limits?: PublishLimits;
  /**
   * Topics whose events are always private (HERALD_PRIVATE_TOPICS). The hub marks HTTP publishes;
   * events written straight to the broker are marked here, so they cannot bypass it.
   */
  readonly privateTopics?: readonly TopicSelector[];
  /**
   * How long, in ms, `append` waits for the local tail to deliver a just-stored event while the
   * tail delivers nothing (default 5 s): the wait ends when the tail has made no progress for that
   * long, or after 12 times that in all. A tail that is busy reading a backlog (concurrent bursts
   * on several nodes) is not stalled: the publish is answered once its events come round.
   */
  readonly deliveryWaitMs?: number;
  /** Longest wait, in ms, in `start` for the first load of the log (a broker that is down is not waited for longer). */
  readonly startWaitMs?: number;
  readonly log?: BusLog;
}

/** One entry read from the broker's log, not yet checked: ingest producers write these directly. */
export interface LogEntry {
  /** Position: strictly increasing in log order, the same on every node. */
  readonly pos: number;
  readonly input: PublishInput;
  /** When the broker stored it (ms since the Unix epoch). */
  readonly time: number;
  /** Set by the node that published it, to find its own event in the tail. */
  readonly token?: string | undefined;
  /** A node's catch-up marker, not an event: only advances the position and settles its token. */
  readonly control?: boolean;
}

/** Events a subclass found lost before this node read them (see `deliverEntries`). */
export interface LostEntries {
  /** Every lost entry lies at or before this position (and after the last one read). */
  readonly pos: number;
  /** How many were lost, when the broker can tell. */
  readonly count?: number;
}

/**
 * How far the broker's clock may be behind this node's before an event stored after this node
 * started counts as older (and is not delivered live by the first load; see `beginLoad`).
 */
export const CLOCK_TOLERANCE_MS = 1000;

/** Longest wait for the broker's newest position when a live-only stream opens (`liveHead`). */
export const LIVE_FROM_WAIT_MS = 3000;

interface Waiter {
  readonly resolve: (value: { event: HeraldEvent; duplicate: boolean } | undefined) => void;
}

/**
 * What Redis and RabbitMQ buses share: the broker holds the log; every node tails it into a local
 * `History` (bounded like the memory bus) and serves replays from it. A subclass connects, reads
 * the epoch, loads and tails entries in log order and hands them to `deliverEntries`.
 *
 * Contracts kept here:
 * - entries reach the listener once each, in log order: an entry at or before the last delivered
 *   position is dropped (a broker redelivery after a reconnect);
 * - who validates: entries from the broker are untrusted (a producer may write them directly), so
 *   each is checked with `validatePublish`; an invalid one is logged and skipped on every node;
 * - an entry that is a retry of a held event (`History.retryOf`: same publisher scope, id and
 *   content) is skipped, so a duplicate that slipped into the log (two concurrent retries, or a
 *   direct producer) is delivered once; the same id from another scope is a new event;
 * - an entry on a topic of `privateTopics` is private, whoever wrote it;
 * - a new epoch (log lost) clears the local history and calls `onLost` before the new log's events;
 * - a load (`beginLoad` .. `endLoad`: the first read of the log, or of a new epoch's log) fills the
 *   history; of its entries, only those the broker stored after this node started (or saw the new
 *   epoch), by the entry's `time`, reach the listener: a stream opened while the broker was
 *   unreachable gets no old event as live. Assumption: the broker's clock (Redis) or the publishing
 *   nodes' clocks (RabbitMQ) are at most `CLOCK_TOLERANCE_MS` behind this node's;
 * - lost entries (`deliverEntries(entries, lost)`) are reported to `onGap` at their place in the
 *   order, and no replay crosses them afterwards (`missed/gap`).
 */
export abstract class LogBus implements Bus {
  protected epoch: string | undefined;
  protected history: History;
  /** Position of the last entry handed to `deliverEntries` (delivered, skipped or invalid). */
  protected headPos = 0;
  protected closed = false;
  protected readonly log: BusLog;
  protected readonly limits: PublishLimits;
  protected readonly deliveryWaitMs: number;
  protected notReadyReason: string | undefined = "connecting to the broker";
  private listener: ((events: readonly HeraldEvent[]) => void) | undefined;
  private onLost: (() => void) | undefined;
  private onGap: ((gap: BusGap) => void) | undefined;
  /** Replays from a position before it would cross a gap (0: no gap in this epoch). */
  private gapFloor = 0;
  /** Entries loaded now go to the history; only those stored at or after `liveFrom` reach the listener. */
  private loading = false;
  /** A load that ends when the control entry with this token is read (RabbitMQ). */
  private loadToken: string | undefined;
  private liveFrom = 0;
  private readonly byToken = new Map<string, Waiter>();
  /** When the tail last handed entries over (or found a gap): a wait for it ends only when it stalls. */
  private lastProgress = Date.now();
  /** The `newestPos` read on its way, shared by the streams that open meanwhile (`liveHead`). */
  private newest: Promise<number | undefined> | undefined;
  private posWaiters: { pos: number; resolve: () => void }[] = [];
  /** True once the log was loaded up to its head at least once: replays are answered from then on. */
  private synced = false;
  private resolveFirstSync: () => void = () => {};
  private readonly firstSync = new Promise<void>((resolve) => {
    this.resolveFirstSync = resolve;
  });

  constructor(protected readonly options: LogBusOptions) {
    this.history = new History(options.history);
    this.log = options.log ?? SILENT_LOG;
    this.limits = options.limits ?? DEFAULT_PUBLISH_LIMITS;
    this.deliveryWaitMs = options.deliveryWaitMs ?? 5000;
  }

  abstract append(inputs: readonly PublishInput[]): Promise<AppendResult[]>;
  protected abstract connect(): Promise<void>;
  protected abstract disconnect(): Promise<void>;

  async start(
    listener: (events: readonly HeraldEvent[]) => void,
    onLost?: () => void,
    onGap?: (gap: BusGap) => void,
  ): Promise<void> {
    this.listener = listener;
    this.onLost = onLost;
    this.onGap = onGap;
    this.liveFrom = Date.now() - CLOCK_TOLERANCE_MS;
    await this.connect();
    // a timer that holds the process: while the broker refuses at once (wrong credentials, no
    // listener), its retries may hold nothing, and a start awaited at top level must still end
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.startWaitMs ?? 3000);
    });
    await Promise.race([this.firstSync, waited]);
    clearTimeout(timer);
  }

  /** Subclasses call this once the tail has read the log up to its head (each time; only the first counts). */
  protected markSynced(): void {
    this.notReadyReason = undefined;
    if (this.synced) return;
    this.synced = true;
    this.resolveFirstSync();
  }

  status(): BusStatus {
    if (this.closed) return { ready: false, reason: "closed" };
    return this.notReadyReason === undefined
      ? { ready: true }
      : { ready: false, reason: this.notReadyReason };
  }

  historySize(): number {
    return this.history.size;
  }

  /**
   * `<epoch>-<pos>` of the last entry handed to the listener (`Bus.headId`). Undefined while the
   * history holds nothing: positions before the first held event may be control entries, which
   * `replay` cannot tell from evicted events, so it would answer a (false) miss.
   */
  headId(): string | undefined {
    return this.history.size === 0 ? undefined : formatHubId(this.epoch ?? "0", this.headPos);
  }

  /**
   * `Bus.liveHead`: the broker's newest position (`newestPos`), read once for every stream that
   * asks while a read is on its way (each of them opens after the answer, so the answer is never
   * later than its opening), at most `LIVE_FROM_WAIT_MS`. Undefined before the first load, when
   * the broker does not answer in time, or when the epoch changed meanwhile.
   */
  async liveHead(): Promise<LiveStart | undefined> {
    if (!this.synced || this.closed) return undefined;
    const epoch = this.epoch;
    const pos = await this.sharedNewestPos();
    if (pos === undefined || epoch === undefined || epoch !== this.epoch) return undefined;
    return { pos, id: formatHubId(epoch, pos) };
  }

  /**
   * `newestPos`, read once for every caller while a read is on its way (at most
   * `LIVE_FROM_WAIT_MS`; undefined when the broker does not answer in time): many streams opening
   * at once cost one read of the broker.
   */
  protected sharedNewestPos(): Promise<number | undefined> {
    if (this.newest === undefined) {
      const read = Promise.race([
        this.newestPos().catch(() => undefined),
        sleep(LIVE_FROM_WAIT_MS).then(() => undefined),
      ]);
      this.newest = read;
      void read.then(() => {
        if (this.newest === read) this.newest = undefined;
      });
    }
    return this.newest;
  }

  /**
   * The position of the newest entry the broker's log holds now (a read of the broker), for
   * `liveHead`; undefined when it cannot tell. Default: undefined (no such read).
   */
  protected async newestPos(): Promise<number | undefined> {
    return undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.byToken.values()) waiter.resolve(undefined);
    this.byToken.clear();
    for (const waiter of this.posWaiters) waiter.resolve();
    this.posWaiters = [];
    await this.disconnect();
  }

  async replay(lastEventId: string, limit: number, visible?: Visible, seen?: Visible): Promise<ReplayResult> {
    if (!this.synced) {
      await Promise.race([this.firstSync, sleep(this.deliveryWaitMs)]);
      if (!this.synced) {
        throw new HeraldError(
          "unavailable",
          "this node has not loaded the shared history yet (the bus broker is unreachable); reconnect in a moment",
          { retryAfterSeconds: 2 },
        );
      }
    }
    await this.catchUp(lastEventId);
    const head = { epoch: this.epoch, headPos: this.headPos };
    if (this.gapFloor > 0) {
      // no replay across the last gap: from before it, the client is told; EARLIEST starts after it
      if (lastEventId === EARLIEST) {
        const oldest = this.history.oldest();
        if (oldest !== undefined && oldest.pos <= this.gapFloor) {
          return replayHistory(
            this.history,
            head,
            formatHubId(this.epoch ?? "0", this.gapFloor),
            limit,
            visible,
          );
        }
      } else {
        const hubId = parseHubId(lastEventId);
        const pos =
          this.history.resolve(lastEventId, visible, seen)?.pos ??
          (hubId?.epoch === this.epoch ? hubId?.pos : undefined);
        if (pos !== undefined && pos < this.gapFloor) {
          return { kind: "missed", reason: "gap", headId: formatHubId(this.epoch ?? "0", this.headPos) };
        }
      }
    }
    return replayHistory(this.history, head, lastEventId, limit, visible, seen);
  }

  /**
   * Starts a load: entries delivered from now on go to the history, and only those stored at or
   * after the node started (or saw a new epoch) reach the listener. It ends with `endLoad`, or
   * when the control entry carrying `untilToken` is read.
   */
  protected beginLoad(untilToken?: string): void {
    this.loading = true;
    this.loadToken = untilToken;
  }

  protected endLoad(): void {
    this.loading = false;
    this.loadToken = undefined;
  }

  /**
   * Before a replay, so that a client coming from a node that is ahead resumes where it was, bounded
   * by `deliveryWaitMs` without progress (`waitForPos`; no progress: the replay answers from what
   * this node holds):
   * - an id that names a position of this log the tail has not reached yet: wait for it;
   * - an id this node does not hold (a publisher's id, or one of another epoch), which another
   *   node may already have delivered (this node's tail is behind: a pause, a burst's backlog):
   *   wait until the tail reached the broker's newest position (`sharedNewestPos`, one read shared
   *   with `liveHead`; none when the broker cannot tell).
   */
  protected async catchUp(lastEventId: string): Promise<void> {
    const hubId = parseHubId(lastEventId);
    if (hubId !== undefined && hubId.epoch === this.epoch) {
      if (hubId.pos > this.headPos) await this.waitForPos(hubId.pos);
      return;
    }
    if (this.history.holds(lastEventId)) return;
    const newest = await this.sharedNewestPos();
    if (newest !== undefined) await this.waitForPos(newest);
  }

  /** The broker's epoch as adopted (`adoptEpoch`); undefined before the first load. */
  currentEpoch(): string | undefined {
    return this.epoch;
  }

  /** Refuses publisher ids that look like ids of this log (they would alias a position). */
  protected checkIds(inputs: readonly PublishInput[]): void {
    if (this.closed) throw busClosing();
    refuseHubIds(inputs, this.epoch);
  }

  /**
   * Calls `expire` once the tail has delivered nothing (and the broker confirmed nothing,
   * `confirmed`) for `deliveryWaitMs` since the wait began, or 12 times that from now whatever it
   * delivers (a wait for an entry it may never reach: a log lost meanwhile). A timer that finds it
   * stalled looks again once the I/O that waited meanwhile was read (`setImmediate`): a loop busy
   * for seconds (a big batch to send) fires its timers before it reads the confirms and entries
   * that came in during that time. Answers a function that cancels it.
   */
  private untilStalled(expire: () => void): () => void {
    const wait = this.deliveryWaitMs;
    const began = Date.now();
    const latest = began + 12 * wait;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let cancelled = false;
    const left = () => {
      const now = Date.now();
      return Math.min(wait - (now - Math.max(this.lastProgress, began)), latest - now);
    };
    const arm = (ms: number) => {
      timer = setTimeout(check, ms);
      timer.unref();
    };
    const check = () => {
      if (left() > 0) return arm(left());
      setImmediate(() => {
        if (cancelled) return;
        if (left() > 0) arm(left());
        else expire();
      });
    };
    arm(wait);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }

  /**
   * The broker confirmed this node's publish: the waits for the tail (`untilStalled`) count from
   * now. Sending a big batch and collecting its confirms may take longer than `deliveryWaitMs`
   * under load, a time in which the tail had nothing new to read.
   */
  protected confirmed(): void {
    this.lastProgress = Date.now();
  }

  /** Resolves once the tail delivered `pos` (or once it stalled: `untilStalled`; or at close). */
  protected waitForPos(pos: number): Promise<void> {
    if (pos <= this.headPos || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = { pos, resolve };
      const cancel = this.untilStalled(() => {
        this.posWaiters = this.posWaiters.filter((w) => w !== waiter);
        resolve();
      });
      waiter.resolve = () => {
        cancel();
        resolve();
      };
      this.posWaiters.push(waiter);
    });
  }

  /**
   * Resolves with the event the tail delivered for `token` (or the held one it was a retry of),
   * or `undefined` for a control marker, or once the tail stalled (`untilStalled`). Register
   * before publishing.
   */
  protected waitForToken(token: string): Promise<{ event: HeraldEvent; duplicate: boolean } | undefined> {
    return new Promise((resolve) => {
      const cancel = this.untilStalled(() => {
        this.byToken.delete(token);
        resolve(undefined);
      });
      this.byToken.set(token, {
        resolve: (value) => {
          cancel();
          this.byToken.delete(token);
          resolve(value);
        },
      });
    });
  }

  protected forgetToken(token: string): void {
    this.byToken.get(token)?.resolve(undefined);
  }

  /** The event an entry becomes (no checks). */
  protected toEvent(entry: LogEntry): HeraldEvent {
    const { input, pos } = entry;
    const id = input.id ?? formatHubId(this.epoch ?? "0", pos);
    return storeEvent(input, pos, id, entry.time);
  }

  /**
   * Takes entries in log order (from a load or the tail) and delivers the new ones. `lost`: entries
   * the broker dropped before this node read them; the gap is reported after the entries at or
   * before `lost.pos` and before the others.
   */
  protected deliverEntries(entries: readonly LogEntry[], lost?: LostEntries): void {
    this.lastProgress = Date.now();
    let batch: HeraldEvent[] = [];
    const settled: [Waiter, HeraldEvent, boolean][] = [];
    let gap = lost;
    for (const entry of entries) {
      if (gap !== undefined && entry.pos > gap.pos) {
        if (batch.length > 0) this.listener?.(batch);
        batch = [];
        this.reportGap(gap);
        gap = undefined;
      }
      if (entry.pos <= this.headPos) continue;
      this.headPos = entry.pos;
      if (entry.control === true) {
        const marker = entry.token === undefined ? undefined : this.byToken.get(entry.token);
        marker?.resolve(undefined);
        if (this.loadToken !== undefined && entry.token === this.loadToken) this.endLoad();
        continue;
      }
      try {
        validatePublish(entry.input, this.limits);
        if (entry.input.id !== undefined && parseHubId(entry.input.id)?.epoch === this.epoch) {
          throw badRequest(`"id" ${JSON.stringify(entry.input.id)} has the form of an id the hub makes`);
        }
      } catch (error) {
        this.log.warn({ pos: entry.pos, err: error }, "skipped an invalid event from the broker");
        continue;
      }
      const waiter = entry.token === undefined ? undefined : this.byToken.get(entry.token);
      const privateTopics = this.options.privateTopics ?? [];
      const marked =
        entry.input.private !== true &&
        privateTopics.length > 0 &&
        anySelectorMatches(privateTopics, entry.input.topics)
          ? { ...entry, input: { ...entry.input, private: true } }
          : entry;
      const held = this.history.retryOf(marked.input);
      if (held !== undefined) {
        if (waiter !== undefined) settled.push([waiter, held, true]);
        continue;
      }
      const event = this.toEvent(marked);
      this.history.add(event, marked.input.id !== undefined);
      // a load fills the history; only what was stored since this node started is live
      if (!this.loading || event.time >= this.liveFrom) batch.push(event);
      if (waiter !== undefined) settled.push([waiter, event, false]);
    }
    if (batch.length > 0) this.listener?.(batch);
    if (gap !== undefined) this.reportGap(gap);
    for (const [waiter, event, duplicate] of settled) waiter.resolve({ event, duplicate });
    if (this.posWaiters.length > 0) {
      const done = this.posWaiters.filter((w) => w.pos <= this.headPos);
      this.posWaiters = this.posWaiters.filter((w) => w.pos > this.headPos);
      for (const waiter of done) waiter.resolve();
    }
  }

  /**
   * A gap this node learned of while loading the log (a failover marker among the entries it
   * loads): it has no stream to tell, but no replay from before `pos` crosses it (as `reportGap`).
   */
  protected floorAt(pos: number): void {
    if (pos > this.gapFloor) this.gapFloor = pos;
  }

  /** Entries were lost before this node read them: replays stop short of them, the hub tells every stream. */
  private reportGap(lost: LostEntries): void {
    const epoch = this.epoch ?? "0";
    const after = formatHubId(epoch, this.headPos);
    const pos = Math.max(lost.pos, this.headPos);
    this.headPos = pos;
    this.gapFloor = pos;
    this.log.warn(
      { after, upTo: formatHubId(epoch, pos), count: lost.count },
      "events were dropped by the broker before this node read them; its streams get herald.missed (gap)",
    );
    const gap: BusGap = { pos, after, resumeId: formatHubId(epoch, pos) };
    this.onGap?.(lost.count === undefined ? gap : { ...gap, count: lost.count });
  }

  /**
   * Adopts the broker's epoch. A different epoch than the one held means the log was lost: the
   * local history is dropped and the hub told, before any event of the new log is delivered.
   */
  protected adoptEpoch(epoch: string): void {
    if (this.epoch === epoch) return;
    if (this.epoch !== undefined) {
      this.log.warn({ from: this.epoch, to: epoch }, "the broker's log was lost: a new epoch begins");
      this.history = new History(this.options.history);
      this.headPos = 0;
      this.gapFloor = 0;
      this.liveFrom = Date.now() - CLOCK_TOLERANCE_MS;
      this.onLost?.();
    }
    this.epoch = epoch;
  }
}
