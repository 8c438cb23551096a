import type { Change, WireCounts } from "./counts.ts";

/** What nodes tell each other about presence (JSON). `seq` numbers one node's messages. */
export type PresenceMessage =
  /** All of a node's presence (every heartbeat): replaces what was known of it. */
  | { kind: "snapshot"; node: string; seq: number; ttlMs: number; counts: WireCounts }
  /** What changed on a node since its previous message. */
  | { kind: "delta"; node: string; seq: number; ttlMs: number; changes: Change[] }
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
  claim(node: string, ttlMs: number): Promise<boolean>;
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
