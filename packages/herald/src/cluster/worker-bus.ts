import type { AppendResult, Bus, BusStatus, MissedReason, ReplayResult, Visible } from "../core/bus.ts";
import { HeraldError, type HeraldErrorCode } from "../core/errors.ts";
import type { HeraldEvent, PublishInput } from "../core/event.ts";
import { parseHubId } from "../core/ids.ts";
import { storeEvent } from "../core/stored-event.ts";
import {
  type Answer,
  type AppendedWire,
  type AppendRequest,
  fromWire,
  keptByWorker,
  RECENT_EVENTS,
  type ToPrimary,
  type ToWorker,
  type WireEvent,
  type WireHolder,
  type WireReplay,
} from "./wire.ts";

/** How a worker talks to its primary: node:cluster's `process.send` and 'message' in production. */
export interface ClusterChannel {
  send(message: ToPrimary): void;
  onMessage(listener: (message: ToWorker) => void): void;
}

/** An answer as the worker resolves it: an append's results are rebuilt while its turn is at hand. */
type Resolved = Answer | { rid: number; results: AppendResult[] };

/**
 * The Bus of a cluster worker (`--workers N` with the memory bus): the primary owns the one log
 * (src/server/cluster-primary.ts, a MemoryBus); workers send it their appends and replays.
 *
 * Contract (the Bus contract, with the primary as the log): the primary assigns positions and ids in
 * one order and sends every stored event to every worker in that order, so an event published
 * through any worker reaches every subscriber on every worker exactly once, in one order, with the
 * same ids and the same history as one process. The events of an append reach this worker's
 * listener before `append` resolves, in the same turn as its answer (the other workers get that
 * turn at the same time); the answer carries no `queued`, so the hub answers with its own
 * subscribers (this worker's): nothing waits for the other workers. Replays are answered by the
 * primary from the one history, up to the head when it answers; events stored before that answer
 * reach this worker before it (one ordered channel), so the hub's replay-then-live join has no gap.
 * Appends of one event-loop turn travel in one message, and at most one such message is
 * unacknowledged: the appends made meanwhile go together once the primary acknowledges it
 * (`ToWorker.acked`). If the primary is gone, `append` and `replay` reject with `unavailable`.
 */
export class ClusterBus implements Bus {
  private listener: ((events: readonly HeraldEvent[]) => void) | undefined;
  private readonly waiting = new Map<
    number,
    { resolve: (answer: Resolved) => void; reject: (e: Error) => void }
  >();
  /** Small events by position (`keptByWorker`), so answers and replays reuse the objects the hub delivered. */
  private readonly recent = new Map<number, HeraldEvent>();
  private outgoing: AppendRequest[] = [];
  /** The last rid of the append message sent and not acknowledged yet (`ToWorker.acked`). */
  private unacked: number | undefined;
  private flushScheduled = false;
  private nextRid = 1;
  private size = 0;
  private head: string | undefined;
  /** The primary's log epoch, from the head id of any turn (it keeps one for its life). */
  private epoch: string | undefined;
  private onLost: (() => void) | undefined;
  private closed = false;

  constructor(private readonly channel: ClusterChannel) {
    channel.onMessage((message) => {
      if (message?.herald === "turn") this.onTurn(message);
    });
  }

  async start(listener: (events: readonly HeraldEvent[]) => void, onLost?: () => void): Promise<void> {
    this.listener = listener;
    this.onLost = onLost;
  }

  /** The log's head as of the last events this worker received (undefined before the first). */
  headId(): string | undefined {
    return this.head;
  }

  /** The primary's epoch, known from this worker's first turn on (`Bus.currentEpoch`). */
  currentEpoch(): string | undefined {
    return this.epoch;
  }

  async append(inputs: readonly PublishInput[]): Promise<AppendResult[]> {
    const rid = this.nextRid++;
    this.outgoing.push({ rid, inputs });
    this.scheduleFlush();
    const answer = await this.ask(rid);
    if (!("results" in answer)) throw new HeraldError("internal", "the cluster primary answered out of turn");
    return answer.results;
  }

  /**
   * Asks the primary, which resolves the id to the earliest held event carrying it (blocked by any
   * event with that id that left the history) and lists the events carrying it and those that
   * left. When `seen` (default: `visible`) accepts one that left, that first answer is the answer;
   * when `visible` refuses the earliest held one, or events that left were all refused, a second
   * request names the held events the subscriber may read (`accept`, any topic) and could have
   * seen (`seen`), so the primary never needs the subscriber.
   */
  async replay(lastEventId: string, limit: number, visible?: Visible, seen?: Visible): Promise<ReplayResult> {
    const first = await this.askReplay(lastEventId, limit);
    const carrying = first.carrying ?? [];
    const forgotten = first.forgotten ?? [];
    // with no held event carrying the id, an event that left changes nothing: unknown either way
    if (visible === undefined || carrying.length === 0) return this.replayResult(first.replayed);
    const couldSee = seen ?? visible;
    const stub = (h: WireHolder) =>
      storeEvent({ topics: h.topics, data: "", private: h.private }, h.pos, lastEventId, 0);
    if (forgotten.some((h) => couldSee(stub(h)))) return this.replayResult(first.replayed);
    const accept = carrying.filter((h) => visible(stub(h))).map((h) => h.pos);
    if (forgotten.length === 0 && accept[0] === carrying[0]?.pos) return this.replayResult(first.replayed);
    const seenPos =
      couldSee === visible ? undefined : carrying.filter((h) => couldSee(stub(h))).map((h) => h.pos);
    return this.replayResult((await this.askReplay(lastEventId, limit, accept, seenPos)).replayed);
  }

  private async askReplay(
    lastEventId: string,
    limit: number,
    accept?: number[],
    seen?: number[],
  ): Promise<{ replayed: WireReplay; carrying?: WireHolder[]; forgotten?: WireHolder[] }> {
    const rid = this.nextRid++;
    const answer = this.ask(rid);
    this.post(
      accept === undefined
        ? { herald: "replay", rid, lastEventId, limit }
        : seen === undefined
          ? { herald: "replay", rid, lastEventId, limit, accept }
          : { herald: "replay", rid, lastEventId, limit, accept, seen },
    );
    const result = await answer;
    if (!("replayed" in result))
      throw new HeraldError("internal", "the cluster primary answered out of turn");
    return result;
  }

  private replayResult(replayed: WireReplay): ReplayResult {
    if (replayed.kind === "events")
      return { kind: "events", events: replayed.events.map((e) => this.event(e)), after: replayed.after };
    return { kind: "missed", reason: replayed.reason as MissedReason, headId: replayed.headId };
  }

  status(): BusStatus {
    return this.closed ? { ready: false, reason: "closed" } : { ready: true };
  }

  historySize(): number {
    return this.size;
  }

  /** The primary is gone: every waiting call rejects with `unavailable`. */
  lost(): void {
    const wasClosed = this.closed;
    this.closed = true;
    for (const { reject } of this.waiting.values()) reject(unavailable());
    this.waiting.clear();
    if (!wasClosed) this.onLost?.();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private ask(rid: number): Promise<Resolved> {
    if (this.closed) return Promise.reject(unavailable());
    return new Promise((resolve, reject) => this.waiting.set(rid, { resolve, reject }));
  }

  /**
   * This worker's appends travel in as few messages as possible (`append`). At most one message is
   * unacknowledged: the appends made meanwhile wait for its acknowledgement (`ToWorker.acked`).
   * Under load appends gather while the previous message is with the primary, and go as soon as
   * it is acknowledged; under light load one goes at the end of the turn it was made in.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled || !this.canSend()) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.canSend()) this.flush();
    });
  }

  /** Whether appends may go now (else the acknowledgement will send them). */
  private canSend(): boolean {
    return this.outgoing.length > 0 && this.unacked === undefined;
  }

  private flush(): void {
    const requests = this.outgoing;
    this.outgoing = [];
    this.unacked = (requests[requests.length - 1] as AppendRequest).rid;
    this.post({ herald: "append", requests });
  }

  private post(message: ToPrimary): void {
    try {
      this.channel.send(message);
    } catch {
      this.lost();
    }
  }

  private onTurn(message: ToWorker): void {
    // before the listener: the appends waiting go before the hub writes these events (shorter round trips)
    if (message.acked !== undefined && this.unacked !== undefined && message.acked >= this.unacked) {
      this.unacked = undefined;
      this.scheduleFlush();
    }
    this.size = message.historySize;
    this.epoch ??= parseHubId(message.headId)?.epoch;
    const events = message.events.map(fromWire);
    if (events.length > 0) {
      // positions are contiguous: the event RECENT_EVENTS positions back is the one to forget
      for (const event of events) {
        if (keptByWorker(event)) this.recent.set(event.pos, event);
        this.recent.delete(event.pos - RECENT_EVENTS);
      }
      this.head = message.headId;
      this.listener?.(events);
    }

    for (const answer of message.answers) {
      const waiter = this.waiting.get(answer.rid);
      this.waiting.delete(answer.rid);
      if (waiter === undefined) continue;
      if ("error" in answer)
        waiter.reject(new HeraldError(answer.error.code as HeraldErrorCode, answer.error.message));
      else if ("appended" in answer) {
        try {
          waiter.resolve({ rid: answer.rid, results: answer.appended.map((a) => this.appended(a)) });
        } catch (error) {
          waiter.reject(error as Error);
        }
      } else waiter.resolve(answer);
    }
  }

  /** The event came in an earlier turn (still among the recent ones), or with the answer. */
  private appended(answer: AppendedWire): AppendResult {
    const known = this.recent.get(answer.pos);
    const event = answer.event !== undefined ? this.event(answer.event) : known;
    if (event === undefined)
      throw new HeraldError("internal", "the cluster primary answered an append without its event");
    return { event, duplicate: answer.duplicate };
  }

  /** The object the hub already delivered for this position, when still known. */
  private event(wire: WireEvent): HeraldEvent {
    const known = this.recent.get(wire.pos);
    return known !== undefined && known.id === wire.id ? known : fromWire(wire);
  }
}

function unavailable(): HeraldError {
  return new HeraldError("unavailable", "the cluster primary is gone; retry against another node", {
    retryAfterSeconds: 1,
  });
}
