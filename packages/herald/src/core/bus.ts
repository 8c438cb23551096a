import type { HeraldEvent, PublishInput } from "./event.ts";

/**
 * The reserved resume point "everything the history holds" (Mercure's `earliest`): `replay(EARLIEST)`
 * answers every held event, or `missed/too-old` when they are more than the replay limit.
 */
export const EARLIEST = "earliest";

/**
 * Which held events a resuming subscriber may READ (the hub passes `mayRead`: public events, and
 * private ones its rights grant, whatever their topics, never a control record): a replay resolves
 * a publisher id only to an event it accepts, so an id is a resume point on any topic (Mercure's
 * ids are cursors into one hub-wide sequence) while a private event the subscriber may not read
 * stays as unknown as an id never held. It does not filter what is replayed after the id: the hub
 * does that with the subscriber's topics and rights. Pure; it reads only `topics` and `private`.
 */
export type Visible = (event: HeraldEvent) => boolean;

/** What `Bus.append` answers for one input, in the order of the inputs. */
export interface AppendResult {
  /** The stored event (for a retry: the event stored the first time). */
  readonly event: HeraldEvent;
  /** True when the input was a retry (`History.retryOf`): nothing was stored or delivered again. */
  readonly duplicate: boolean;
}

/** Why a `Last-Event-ID` cannot be resumed from. */
export type MissedReason =
  | "unknown-id" // the history never held this id, or no longer does
  | "too-old" // the id is held but more events follow it than a replay may send
  | "epoch-changed" // the id comes from a log that was lost (restart, flushed store)
  | "gap"; // this node lost events after the id before it could deliver them (see `BusGap`)

/**
 * Events this node's tail lost before delivering them: the broker dropped them (Redis: trimmed past
 * the retention cap or XDEL'd; RabbitMQ: stream retention) before this node read them. The hub
 * tells every live subscriber (`herald.missed`, reason `gap`) before the events that follow.
 */
export interface BusGap {
  /**
   * Every event lost lies at or before this position (and after the last delivered one); the next
   * event delivered comes after it. The hub places the signal here in each subscriber's stream.
   */
  readonly pos: number;
  /** The id (`<epoch>-<pos>`) of the last position delivered before the gap: events after it may be missing. */
  readonly after: string;
  /** Where a client stands once told: `replay(resumeId)` answers the events delivered after the gap. */
  readonly resumeId: string;
  /** How many events were lost, when the bus can count them (an upper bound on RabbitMQ). */
  readonly count?: number;
}

export type ReplayResult =
  /**
   * Every event after the given id, in log order, up to the head when the call was made. `after`
   * is the position the id resolved to: the events are those after it, and a subscriber resuming
   * there must get nothing at or before it, even live (a node behind the log queued those).
   */
  | { readonly kind: "events"; readonly events: readonly HeraldEvent[]; readonly after: number }
  /** The id cannot be resumed from; `headId` is where the client stands if it starts live now. */
  | { readonly kind: "missed"; readonly reason: MissedReason; readonly headId: string };

/** Where a live-only stream starts (`Bus.liveHead`). */
export interface LiveStart {
  /** The stream gets only events after this position. */
  readonly pos: number;
  /** `<epoch>-<pos>`: a resume point `replay` accepts. */
  readonly id: string;
}

export interface BusStatus {
  readonly ready: boolean;
  /** Why not ready (broker unreachable, ...), for /readyz. */
  readonly reason?: string;
}

/**
 * The Bus: one ordered, bounded log of events that every node tails. It is both the fan-out between
 * nodes and the history that replays serve from.
 *
 * Contract, for every implementation (checked by test/bus-contract.ts):
 * - `append` stores inputs in the given order and resolves only once they are stored; each stored
 *   event gets a `pos` greater than every event stored before it, and the input's `id`, or a hub id
 *   `<epoch>-<pos>` that is unique in the log. Publisher ids are deduplicated per publisher scope
 *   (`PublishInput.scope`): an input with the scope, id and content of the newest held event of
 *   that scope and id is not stored again (a safe retry): its result is the held event with
 *   `duplicate: true`. Any other input is stored, even when events of other scopes (or of this
 *   scope with other content) carry its id: one publisher can neither stop nor answer for another's
 *   events. The scope travels with the event through the broker; it never reaches the wire. When
 *   the log cannot store, `append` rejects with a `HeraldError` of code `unavailable` and nothing of
 *   that call is acknowledged.
 *   Inputs are validated by the caller (`validatePublish`) before they reach `append`.
 *   A stored event keeps every field of its input, `private` included: each node filters private
 *   events on delivery and replay from that flag alone, so a bus that dropped it would leak them.
 * - the listener given to `start` receives every stored event exactly once on this node, in log
 *   order (the same order on every node), in batches; never a duplicate, never a gap that is not
 *   reported: when the broker dropped events before this node read them, the bus calls `onGap`
 *   (after the events before the gap, before those after it). A bus that cannot lose a stored event
 *   (memory, cluster) never calls it.
 * - the listener gets only events stored after the node started tailing: the first load of the log
 *   (and the load of a new epoch's log) fills the history and is not delivered, except events the
 *   broker stored after `start` was called (a stream opened while the broker was unreachable gets
 *   those, never older ones).
 * - when the log itself was lost (store flushed or deleted: a new epoch), the bus calls `onLost`
 *   before delivering any event of the new log; positions may restart then, so the hub ends every
 *   stream and clients resume with their old id, which answers `missed/epoch-changed`.
 * - `replay(id, limit, visible)` answers the events stored after the event with that id, in log
 *   order, up to the newest event this node had received when the call was made (events after it
 *   reach the node's listener, so a subscriber registered before the replay gets them live: no
 *   gap); or `missed` when the id is unknown, expired, from another epoch, or followed by more than
 *   `limit` events. `replay(EARLIEST, limit)` answers every held event. A hub id names a position.
 *   A publisher id several held events carry resolves to the earliest of them that `visible`
 *   accepts (default: any), whatever their topics: resuming never skips an event the subscriber
 *   may have missed (at worst it gets again events it had), and Mercure's rule ("the earliest such
 *   update") holds. An id that only events `visible` refuses carry (private events the subscriber
 *   may not read) is `missed/unknown-id`, as an id never held: a replay reveals nothing about them.
 *   An id an event that left the history (evicted) carried is `missed/unknown-id` when `seen`
 *   (default: `visible`; without either, any) accepts that event: the subscriber could have seen
 *   it, and resuming after a newer event with that id would skip what came between. For a
 *   subscriber `seen` refuses it, that event counts for nothing (the id resolves among held events
 *   as above): the answer reveals nothing about events it may not read. The bus remembers who
 *   could read the last `--history-size` events that left (their topics and flag, not their data).
 *   The events answered are every held event after the resume point, of every topic: the caller
 *   filters them.
 *   A replay never crosses a gap: from an id before the last gap it answers `missed/gap`, and
 *   `EARLIEST` starts after the gap.
 */
export interface Bus {
  start(
    listener: (events: readonly HeraldEvent[]) => void,
    onLost?: () => void,
    onGap?: (gap: BusGap) => void,
  ): Promise<void>;
  append(inputs: readonly PublishInput[]): Promise<AppendResult[]>;
  replay(lastEventId: string, limit: number, visible?: Visible, seen?: Visible): Promise<ReplayResult>;
  status(): BusStatus;
  /** How many events the history holds now (for metrics). */
  historySize(): number;
  /**
   * The id of the last event this node's listener received, in a form `replay` accepts even when
   * that event's own id was chosen by its publisher (the memory bus answers `<epoch>-<pos>`). It must
   * reveal nothing about the event (no publisher id). Undefined when the bus cannot name a position
   * a replay would accept (e.g. nothing held yet). Optional: without it the hub falls back on the
   * last public event's id. Used as a live-only subscriber's resume point.
   */
  headId?(): string | undefined;
  /**
   * The `<epoch>` of this log's hub ids (`<epoch>-<pos>`) as this node knows it now; undefined
   * before it knows one (a broker not reached yet, a cluster worker before its first turn). The hub
   * refuses a publisher id of that form when it validates an input (`Hub.validate`: a route does it
   * before it charges the publish rate, naming the bad event); `append` refuses them again, as the
   * last guard (the epoch may have changed, or become known, meanwhile). Optional: without it only
   * `append` refuses them.
   */
  currentEpoch?(): string | undefined;
  /**
   * Where a live-only stream opened now starts: the log's newest position as the broker holds it
   * now, asked of the broker (a node's tail may lag behind it: a node that was stopped, or is
   * reading a backlog, must not hand a new stream the events stored before it opened). The stream
   * gets only events after `pos`; `id` names that position for `replay` (its resume point).
   * Undefined when the bus cannot tell (the broker is unreachable, or the bus never lags: memory).
   * Bounded: it answers within about a second whatever the broker does. Optional.
   */
  liveHead?(): Promise<LiveStart | undefined>;
  /**
   * How far this node's tail is behind the log's head, in seconds (for metrics); 0 when it is up to
   * date or the bus cannot tell. Optional: absent counts as 0.
   */
  lagSeconds?(): number;
  /** Stops tailing and releases connections. Appends after `close` reject. */
  close(): Promise<void>;
}
