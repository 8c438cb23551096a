import { badRequest } from "./errors.ts";
import type { HeraldEvent } from "./event.ts";

/**
 * The reserved topic of the hub's control records (live subscription changes, token renewals,
 * tickets: src/api/stream-control.ts). They travel through the bus's ordered log like events, so
 * every node sees them at one position of the one order; the hub never writes them to a subscriber
 * (not on fan-out, not on replay, whatever its selectors, `*` included) and no publisher may publish
 * to this topic (`Hub.publish` refuses it).
 */
export const CONTROL_TOPIC = "$herald/control";

/**
 * Refuses (400) a subscription that names the control topic exactly: its records reach no
 * subscriber, so that topic would never deliver anything. Herald's API calls it where a stream
 * names its topics (opening, adding). Patterns that cover it (`*`, `$herald/*`) are fine: they
 * simply never see a record.
 */
export function refuseControlTopic(topics: readonly string[]): void {
  if (topics.includes(CONTROL_TOPIC)) {
    throw badRequest(
      `topic ${JSON.stringify(CONTROL_TOPIC)} is the hub's own (its control records reach no subscriber); subscribe to another`,
    );
  }
}

/** The event type control records carry (with `CONTROL_TOPIC` as their only topic). */
export const CONTROL_TYPE = "herald.control";

/** True for a control record: never delivered to a subscriber. Takes an event or a publish input. */
export function isControl(event: {
  readonly type?: string | undefined;
  readonly topics: readonly string[];
}): boolean {
  return event.type === CONTROL_TYPE && event.topics.length === 1 && event.topics[0] === CONTROL_TOPIC;
}

/**
 * Applies a control record at its log position: called by the hub once every event before it was
 * written (or queued) to the local subscribers and before any event after it is looked at, so a
 * change of topics it makes splits the stream exactly there. Runs synchronously inside the hub's
 * fan-out loop: it may call `Hub.resubscribe`, and must not throw.
 */
export type ControlListener = (record: HeraldEvent) => void;
