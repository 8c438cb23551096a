import type { Change, WireCounts } from "./counts.ts";

/**
 * What every snapshot and delta says of its sender. `seq` numbers one node's messages; `warm`: the
 * sender is past its warm-up (it may lead); `leads`: it leads (it announces the cluster's
 * transitions); `warmFor`: ms since it got past its warm-up (0 while warming up). Absent (an older
 * node): warm, not leading, 0.
 */
interface Sender {
  node: string;
  seq: number;
  ttlMs: number;
  warm?: boolean;
  leads?: boolean;
  warmFor?: number;
}

/** What nodes tell each other about presence (JSON). */
export type PresenceMessage =
  /**
   * All of a node's presence (every heartbeat, and in answer to a node not heard before):
   * replaces what was known of it.
   */
  | (Sender & { kind: "snapshot"; counts: WireCounts })
  /** What changed on a node since its previous message. */
  | (Sender & { kind: "delta"; changes: Change[] })
  /** A node stops (graceful shutdown): forget it now rather than at its TTL. */
  | { kind: "bye"; node: string };

/**
 * The port between presence and the bus: a broadcast to every node of the cluster, beside the
 * event log and never in it (no history, no ordering with events).
 *
 * Contract, for every implementation (memory: none needed; --workers: IPC relayed by the
 * primary; Redis: pub/sub; RabbitMQ: a fanout exchange):
 * - `send` is fire-and-forget and at most once: a message may be lost (broker down, reconnect),
 *   never duplicated; messages of one sender arrive in the order sent. It never throws.
 * - every node's listener gets every message that is not lost, its own included or not (the
 *   table ignores its own).
 * - the channel validates nothing: receivers treat messages as untrusted shapes
 *   (counts.ts `fromWire`). Only Herald nodes may reach the broker (same trust as the event log).
 */
export interface PresenceChannel {
  /**
   * False while this node cannot hear the others (its connection to the broker is down). Then it
   * forgets no peer (their silence says nothing) and does not lead; once it hears again, each peer
   * it knew gets a fresh TTL plus as long as this node could not hear (the outage cut the peers off
   * too, and each comes back on its own, later maybe than this one). So an outage of the
   * broker alone announces nothing: no leave and `topic.vacated`, then join and `topic.occupied`
   * again, for subscribers that never left. Absent: always hearing (IPC, one process).
   */
  readonly hearing?: boolean;
  start(listener: (message: PresenceMessage) => void): Promise<void>;
  send(message: PresenceMessage): void;
  close(): Promise<void>;
}

/**
 * Who announces the cluster's transitions (join, leave, occupied, vacated) and sends their
 * webhooks: one node at a time. `claim` is called every heartbeat; it resolves true when this node
 * leads for the next `ttlMs` (taking the lead if nobody holds it). Two nodes may both believe they
 * lead only while a paused leader has not yet renewed (the service re-checks its lease by the
 * monotonic clock before announcing, so a resumed node announces nothing until it renewed).
 */
export interface Leadership {
  /**
   * `endingWarmUp`: the first claim, at the end of this node's warm-up. A lead decided from the
   * view (`fromView`) then defers to every elder node this node heard, warm or not yet seen warm:
   * its message saying it got warm may still be unread or in flight.
   */
  claim(node: string, ttlMs: number, endingWarmUp?: boolean): Promise<boolean>;
  /**
   * True when `claim` answers from what this node heard (no I/O, no lock: RabbitMQ's lowest id):
   * it is asked again before each announcement, so a node stops announcing as soon as it hears
   * of a node that leads in its place.
   */
  readonly fromView?: boolean;
  /** Gives the lead up (graceful stop), so another node takes it at once. */
  release(node: string): Promise<void>;
}

/** One node alone (memory bus, one process): the channel carries nothing, the node leads. */
export class LocalChannel implements PresenceChannel, Leadership {
  async start(): Promise<void> {}
  send(): void {}
  async close(): Promise<void> {}
  async claim(): Promise<boolean> {
    return true;
  }
  async release(): Promise<void> {}
}
