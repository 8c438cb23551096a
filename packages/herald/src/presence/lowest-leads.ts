import { randomBytes } from "node:crypto";
import type { Leadership } from "./channel.ts";

/**
 * A presence node's id: its start time (ms since the Unix epoch, 12 hex digits) then 8 random hex
 * digits, so ids sort by start time (ties broken at random) and `LowestNodeLeads` elects the
 * eldest node. That is the one whose view holds every other's: it heard every node that any
 * younger node heard, and nodes that died before the younger ones started. With random ids, the
 * replacement of a killed worker could lead while only the other worker knew of a topic whose
 * last subscribers had gone with the dead one: its `topic.vacated` was computed by a node that did
 * not lead, never by the one that did.
 */
export function newNodeId(now = Date.now()): string {
  return Math.floor(now).toString(16).padStart(12, "0") + randomBytes(4).toString("hex");
}

/**
 * Leadership without a lock (RabbitMQ, `--workers` on the memory bus): the node with the lowest id
 * (the eldest: `newNodeId`) among those this node hears (its peers within their TTL and past their
 * warm-up: a node warming up cannot lead, so it is not waited for) and itself leads. Every node
 * sees the same live set once the heartbeats settle (one TTL after a change), so one node leads;
 * while they settle, two may (a transition announced twice) or none (not announced). Across
 * machines the clocks may differ: the order is still one total order, the same on every node.
 */
export class LowestNodeLeads implements Leadership {
  readonly fromView = true;

  constructor(
    /** The peers heard within their TTL and past their warm-up. */
    private readonly warmPeers: () => Iterable<string>,
    /** Every peer heard within its TTL, warm or not (at the end of this node's warm-up). */
    private readonly peers: () => Iterable<string> = warmPeers,
  ) {}

  /**
   * At the end of its warm-up a node also defers to an elder peer not seen warm yet: two nodes of a
   * cluster that just started end their warm-ups close together, the elder first, and the younger
   * may not have read the elder's message saying so (in flight, or its event loop was busy: the
   * warm-up's timer runs before the messages that came meanwhile are read). Both led, and both
   * announced the warm-up's transitions (a second `topic.occupied`). The elder announces them.
   */
  async claim(node: string, _ttlMs?: number, endingWarmUp = false): Promise<boolean> {
    for (const peer of endingWarmUp ? this.peers() : this.warmPeers()) if (peer < node) return false;
    return true;
  }

  async release(): Promise<void> {}
}
