import type { ReplayResult } from "../core/bus.ts";
import type { HeraldEvent, PublishInput } from "../core/event.ts";
import { storeEvent } from "../core/stored-event.ts";

/**
 * The messages between the cluster primary (which owns the log) and its workers, over node:cluster's
 * IPC channel (JSON). One channel per worker, in order both ways.
 *
 * worker -> primary: `append` (several appends of one event-loop turn in one message), `replay`.
 * primary -> worker: `turn`: the events stored during one turn of the primary (every worker gets
 * them, in log order) FOLLOWED in the same message by this worker's answers; so a worker always has
 * delivered an event locally before the publish that stored it is answered.
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
  | { herald: "append"; requests: AppendRequest[] }
  | { herald: "replay"; rid: number; lastEventId: string; limit: number };

/**
 * One stored input of an append. A new event is in the same `turn` message (by `pos`), so only its
 * position travels; a duplicate (a publisher id the history still holds) carries the held event.
 */
export type AppendedWire =
  | { pos: number; duplicate: false }
  | { pos: number; duplicate: true; event: WireEvent };

export type Answer =
  | { rid: number; appended: AppendedWire[] }
  | { rid: number; replayed: WireReplay }
  | { rid: number; error: { code: string; message: string } };

export type WireReplay =
  | { kind: "events"; events: WireEvent[] }
  | { kind: "missed"; reason: string; headId: string };

export type ToWorker = {
  herald: "turn";
  events: WireEvent[];
  answers: Answer[];
  historySize: number;
  /** The log's head after these events, as `replay` accepts it (`<epoch>-<pos>`). */
  headId: string;
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
  return result.kind === "events" ? { kind: "events", events: result.events.map(toWire) } : result;
}
