import type { ReplayResult } from "../core/bus.ts";
import type { HeraldEvent, PublishInput } from "../core/event.ts";
import { storeEvent } from "../core/stored-event.ts";

/**
 * The messages between the cluster primary (which owns the log) and its workers, over node:cluster's
 * IPC channel (JSON). One channel per worker, in order both ways.
 *
 * worker -> primary: `append` (the appends of one event-loop turn or more), `replay` (resolved in
 * two steps when the subscriber may not read the earliest event carrying its id, or when an event
 * carrying it left the history and the worker judged, with its subscriber's rights, that it could
 * not have read it).
 * primary -> worker: `turn`: the events stored during one turn of the primary (every worker gets
 * them, in log order) followed by answers for this worker, those of the appends stored in that turn
 * included. So a worker has its events before their answer (it writes them to its subscribers,
 * then answers the publish: `queued` counts this worker's subscribers), and one publish costs one
 * message to the primary and one turn to each worker, however many workers there are.
 */
export interface WireEvent {
  pos: number;
  id: string;
  topics: readonly string[];
  data: string;
  type?: string | undefined;
  retry?: number | undefined;
  private?: boolean;
  time: number;
}

export interface AppendRequest {
  rid: number;
  inputs: readonly PublishInput[];
}

export type ToPrimary =
  /** A worker's appends of one event-loop turn or more. */
  | { herald: "append"; requests: AppendRequest[] }
  /**
   * `accept`, when present: the positions of the held events carrying `lastEventId` that the
   * resuming subscriber may read (from a first answer's `carrying`); the id resolves to the
   * earliest of them, or is treated as held by none. The events of the first answer's `forgotten`
   * then count for nothing (the worker judged it could not have seen them); `seen` (default:
   * `accept`) names the held events of `carrying` it could have seen: one of them that left the
   * history between the two requests blocks the id.
   */
  | {
      herald: "replay";
      rid: number;
      lastEventId: string;
      limit: number;
      accept?: number[];
      seen?: number[];
    };

/**
 * A held event carrying a replay's id, or one that left the history: what a worker needs to apply
 * its subscriber's `Visible` (never the event's data).
 */
export interface WireHolder {
  pos: number;
  topics: readonly string[];
  private?: boolean;
}

/**
 * The worker keeps (for answers that name only a position) the events of its last
 * `RECENT_EVENTS` positions whose data is at most `RECENT_MAX_DATA` characters: at most ~4096 small
 * events (a few MB), never a second unbounded copy of the history. The primary sends the event
 * with an answer whenever the worker may not have kept it.
 */
export const RECENT_EVENTS = 4096;
export const RECENT_MAX_DATA = 1024;

/** True when a worker keeps `event` among its recent ones (`RECENT_MAX_DATA`). */
export function keptByWorker(event: { readonly data: string }): boolean {
  return event.data.length <= RECENT_MAX_DATA;
}

/**
 * One stored input of an append. The worker has the event from this turn or an earlier one (by
 * `pos`), so only its position travels, unless the event may have left the worker's recent events,
 * or was too large to be kept there (`event` then).
 */
export interface AppendedWire {
  pos: number;
  duplicate: boolean;
  event?: WireEvent;
}

export type Answer =
  | { rid: number; appended: AppendedWire[] }
  /**
   * A replay from the earliest held event carrying the id, and (for a first request of a publisher
   * id) `carrying`: the held events with that id, oldest first, one per distinct topics and flag;
   * `forgotten` (only with `carrying`): the events with that id that left the history
   * (`MemoryBus.forgotten`), one per distinct topics and flag; when present, `replayed` is the
   * answer of an id that any of them blocks. Both lists are bounded by the history size
   * (`--history-size`), never hold data.
   */
  | { rid: number; replayed: WireReplay; carrying?: WireHolder[]; forgotten?: WireHolder[] }
  | { rid: number; error: { code: string; message: string } };

export type WireReplay =
  | { kind: "events"; events: WireEvent[]; after: number }
  | { kind: "missed"; reason: string; headId: string };

export type ToWorker = {
  herald: "turn";
  events: WireEvent[];
  answers: Answer[];
  historySize: number;
  /** The log's head after these events, as `replay` accepts it (`<epoch>-<pos>`). */
  headId: string;
  /**
   * The last append request (`rid`) of this worker that the primary has taken (stored or refused):
   * a worker keeps one append message unacknowledged at most, and sends what came meanwhile once
   * this arrives (so appends travel in as few messages as the round trip allows).
   */
  acked?: number;
};

export function toWire(event: HeraldEvent): WireEvent {
  const wire: WireEvent = {
    pos: event.pos,
    id: event.id,
    topics: event.topics,
    data: event.data,
    time: event.time,
  };
  if (event.type !== undefined) wire.type = event.type;
  if (event.retry !== undefined) wire.retry = event.retry;
  if (event.private) wire.private = true;
  return wire;
}

/** Rebuilds a stored event; its bytes are encoded here, once per worker. */
export function fromWire(wire: WireEvent): HeraldEvent {
  return storeEvent(wire, wire.pos, wire.id, wire.time);
}

export function replayToWire(result: ReplayResult): WireReplay {
  return result.kind === "events"
    ? { kind: "events", events: result.events.map(toWire), after: result.after }
    : result;
}

export function toHolder(event: HeraldEvent): WireHolder {
  return event.private
    ? { pos: event.pos, topics: event.topics, private: true }
    : { pos: event.pos, topics: event.topics };
}
