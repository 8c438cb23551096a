import { EARLIEST, type ReplayResult, type Visible } from "./bus.ts";
import type { History } from "./history.ts";
import { formatHubId, parseHubId } from "./ids.ts";

/** Where a bus's log stands: its epoch (undefined before the first load) and the last delivered position. */
export interface LogHead {
  readonly epoch: string | undefined;
  readonly headPos: number;
}

/**
 * `Bus.replay` served from a bus's local `History` (the memory bus, and every node of a log bus).
 * Answers the events after `lastEventId` (a held id, a hub id `<epoch>-<pos>` or `EARLIEST`), or
 * `missed`: `unknown-id` for an id never held, evicted or ahead of the head; `epoch-changed` for a
 * hub id of another epoch; `too-old` when more than `limit` events follow it. A held id resolves
 * to the earliest event carrying it that `visible` accepts (`History.resolve`: the hub's `mayRead`,
 * any topic); when there is none, the id is treated as if no event carried it. An id carried by
 * an event that left the history and that `seen` (default: `visible`) accepts is `unknown-id`.
 */
export function replayHistory(
  history: History,
  head: LogHead,
  lastEventId: string,
  limit: number,
  visible?: Visible,
  seen: Visible | undefined = visible,
): ReplayResult {
  const { epoch, headPos } = head;
  const headId = formatHubId(epoch ?? "0", headPos);
  if (lastEventId === EARLIEST) {
    history.trim();
    return history.after((history.oldest()?.pos ?? headPos + 1) - 1, limit, headId);
  }
  const held = history.resolve(lastEventId, visible, seen);
  if (held !== undefined) return history.after(held.pos, limit, headId);
  const hubId = parseHubId(lastEventId);
  if (hubId === undefined) return { kind: "missed", reason: "unknown-id", headId };
  if (hubId.epoch !== epoch) return { kind: "missed", reason: "epoch-changed", headId };
  history.trim();
  const oldestPos = history.oldest()?.pos ?? headPos + 1;
  if (hubId.pos > headPos || hubId.pos < oldestPos - 1) {
    return { kind: "missed", reason: "unknown-id", headId };
  }
  return history.after(hubId.pos, limit, headId);
}
