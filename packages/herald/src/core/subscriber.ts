import { concat } from "./bytes.ts";
import { isControl } from "./control.ts";
import type { HeraldEvent } from "./event.ts";
import { taggedBytes } from "./matched.ts";
import { anySelectorGrants, anySelectorMatches, type TopicSelector } from "./topic.ts";

/**
 * Where a subscriber's bytes go: the server's SSE response writer implements it.
 * Contract: `write` never blocks and never throws; the sink enforces its own byte bound and calls
 * back `Subscriber.close` (through the hub) when the client is too slow or gone.
 */
export interface Sink {
  /** Queues bytes for the client; false when the client's buffer is above its high-water mark. */
  write(bytes: Uint8Array): boolean;
  /** Resolves when the buffer has drained below the high-water mark, or the sink has ended. */
  drained(): Promise<void>;
  /** Ends the stream (`reason` is for logs and metrics). Idempotent. */
  end(reason: CloseReason): void;
}

/**
 * Whether a subscriber of `selectors`, allowed private events on `privateSelectors`, receives
 * `event` of a replay (`Subscriber.accepts`): its topics and its private rights. Never a control
 * record. (Which held id a resume may start from is `mayRead`'s question, not this one.)
 */
export function receives(
  selectors: readonly TopicSelector[],
  privateSelectors: readonly TopicSelector[],
  event: HeraldEvent,
): boolean {
  if (isControl(event) || !anySelectorMatches(selectors, event.topics)) return false;
  return !event.private || anySelectorGrants(privateSelectors, event.topics);
}

/**
 * Whether a subscriber allowed private events on `privateSelectors` may READ `event`, whatever its
 * topics: a public event, or a private one its rights grant; never a control record. This is what
 * makes a held id a resume point (`Visible`): a resume may start from any event the subscriber
 * could have been sent, on any topic; what it then replays is still filtered by `receives`.
 */
export function mayRead(privateSelectors: readonly TopicSelector[], event: HeraldEvent): boolean {
  if (isControl(event)) return false;
  return !event.private || anySelectorGrants(privateSelectors, event.topics);
}

export type CloseReason = "client-closed" | "slow" | "shutdown" | "expired" | "error";

export interface SubscriberOptions {
  readonly selectors: readonly TopicSelector[];
  /** Selectors this subscriber is authorized to read private events on (none by default). */
  readonly privateSelectors?: readonly TopicSelector[];
  readonly sink: Sink;
  /** Most bytes queued while a replay runs before the subscriber is dropped as slow. */
  readonly maxPendingBytes: number;
  /** Tag each event with the selectors that matched it (`GET /events?matched=1`: src/core/matched.ts). */
  readonly matched?: boolean | undefined;
}

const NONE: readonly TopicSelector[] = [];

/**
 * One subscriber. Starts in "replaying" state: live events are queued until `release`, so a replay
 * and the live stream join with no gap; `lastPos` makes each event reach it at most once, in order.
 * Memory: a few fields per subscriber; the replay queue is allocated only when something waits in it.
 */
export class Subscriber {
  /** What it subscribes to now: changed only by `Hub.resubscribe`, at a position of the log. */
  selectors: readonly TopicSelector[];
  /** Where it may receive private events now (changed by `Hub.resubscribe`, like `selectors`). */
  privateSelectors: readonly TopicSelector[];
  /**
   * The selectors and private rights it opened with: a replay (which only covers events before any
   * change, since a change comes after the stream announced itself) filters with these.
   */
  private readonly openedWith: { selectors: readonly TopicSelector[]; private: readonly TopicSelector[] };
  readonly sink: Sink;
  /**
   * Each event it is sent is tagged with the selectors that matched it (src/core/matched.ts): its
   * bytes are its own, so it is never `single`. False for every other subscriber (one check).
   */
  readonly matched: boolean;
  /**
   * True when the subscription is one exact topic with no private rights and no tagging: the hub
   * may then write it a batch's bytes shared with every other such subscriber of that topic.
   */
  single: boolean;
  /** Position of the last event written; events at or before it are skipped. */
  lastPos = 0;
  closed = false;
  private replaying = true;
  private pending: HeraldEvent[] | undefined;
  /** Bytes taken during the current fan-out step and not written yet (`take`, `writeCollected`). */
  private collected: Uint8Array | Uint8Array[] | undefined;
  private pendingBytes = 0;
  private readonly maxPendingBytes: number;

  constructor(options: SubscriberOptions) {
    this.selectors = options.selectors;
    this.privateSelectors = options.privateSelectors ?? NONE;
    this.sink = options.sink;
    this.maxPendingBytes = options.maxPendingBytes;
    this.openedWith = { selectors: this.selectors, private: this.privateSelectors };
    this.matched = options.matched === true;
    this.single = !this.matched && isSingle(this.selectors, this.privateSelectors);
  }

  /** False while the replay runs (live events are queued, not written). */
  get live(): boolean {
    return !this.replaying;
  }

  /** Live events queued while the replay runs. */
  get pendingCount(): number {
    return this.pending?.length ?? 0;
  }

  /**
   * Whether this subscriber may and wants to receive `event` of a replay: by the selectors and
   * rights it opened with (see `openedWith`). Never a control record.
   */
  accepts(event: HeraldEvent): boolean {
    return receives(this.openedWith.selectors, this.openedWith.private, event);
  }

  /** Whether it may read `event` (`mayRead`, with the rights it opened with): a resume point, whatever the topics. */
  mayRead(event: HeraldEvent): boolean {
    return mayRead(this.openedWith.private, event);
  }

  /**
   * For the fan-out: takes a live event the caller already matched against the topic index
   * (`accepts` is checked here only for private events). A live subscriber's bytes are collected,
   * not written: the first one taken puts the subscriber on `touched`, and the caller then writes
   * everything collected in ONE write (`writeCollected`), in the order taken. Returns true when
   * the event was collected or queued (false: already had it, closed, or not allowed).
   */
  take(event: HeraldEvent, touched: Subscriber[]): boolean {
    if (event.pos <= this.lastPos || this.closed) return false;
    if (event.private && !anySelectorGrants(this.privateSelectors, event.topics)) return false;
    if (this.replaying) return this.queue(event);
    this.lastPos = event.pos;
    const bytes = this.matched ? taggedBytes(this.selectors, event) : event.bytes;
    if (this.collected === undefined) {
      this.collected = bytes;
      touched.push(this);
    } else if (this.collected instanceof Uint8Array) {
      this.collected = [this.collected, bytes];
    } else {
      this.collected.push(bytes);
    }
    return true;
  }

  /**
   * Writes (or, while the replay runs, queues) one live event on its own, outside a fan-out (the
   * hub's gap signal). Same checks as `take`; true when it was written or queued.
   */
  offer(event: HeraldEvent): boolean {
    const touched: Subscriber[] = [];
    const taken = this.take(event, touched);
    if (touched.length > 0) this.writeCollected();
    return taken;
  }

  /** Writes what `take` collected, in one write; answers how many bytes. */
  writeCollected(): number {
    const collected = this.collected;
    this.collected = undefined;
    if (collected === undefined || this.closed) return 0;
    const bytes = collected instanceof Uint8Array ? collected : concat(collected);
    this.sink.write(bytes);
    return bytes.length;
  }

  /**
   * Writes the bytes of consecutive live events ending at `lastPos`, built once and shared by
   * every `single` subscriber of their topic. The caller checked `live` and that the first event
   * is after this subscriber's `lastPos`.
   */
  writeShared(bytes: Uint8Array, lastPos: number): void {
    this.lastPos = lastPos;
    this.sink.write(bytes);
  }

  private queue(event: HeraldEvent): boolean {
    if (this.pending === undefined) this.pending = [];
    const pending = this.pending;
    if (pending[pending.length - 1] === event) return false;
    pending.push(event);
    this.pendingBytes += event.bytes.length;
    if (this.pendingBytes > this.maxPendingBytes) this.sink.end("slow");
    return true;
  }

  /**
   * Writes a replayed event (already in log order). Returns "skipped", "written", or "full" (written,
   * and the caller should await `sink.drained()` before the next one).
   */
  replayed(event: HeraldEvent): "skipped" | "written" | "full" {
    if (event.pos <= this.lastPos || !this.accepts(event)) return "skipped";
    this.lastPos = event.pos;
    return this.sink.write(this.matched ? taggedBytes(this.selectors, event) : event.bytes)
      ? "written"
      : "full";
  }

  /** Ends replay: writes the live events queued meanwhile that the replay did not cover. */
  release(): void {
    this.replaying = false;
    const pending = this.pending;
    this.pending = undefined;
    this.pendingBytes = 0;
    if (pending === undefined) return;
    for (const event of pending) {
      if (event.pos > this.lastPos && !this.closed) {
        this.lastPos = event.pos;
        this.sink.write(this.matched ? taggedBytes(this.selectors, event) : event.bytes);
      }
    }
  }
}

/** One exact topic and no private rights: the fan-out's shared-bytes path (`Subscriber.single`). */
export function isSingle(
  selectors: readonly TopicSelector[],
  privateSelectors: readonly TopicSelector[],
): boolean {
  return selectors.length === 1 && selectors[0]?.kind === "exact" && privateSelectors.length === 0;
}
