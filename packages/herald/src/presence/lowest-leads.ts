import type { Leadership } from "./channel.ts";

/**
 * Leadership without a lock (RabbitMQ): the node with the lowest id among those this node hears
 * (its peers within their TTL and past their warm-up: a node warming up cannot lead, so it is not
 * waited for) and itself leads. Every node sees the same live set once the heartbeats settle (one
 * TTL after a change), so one node leads; while they settle, two may (a transition announced
 * twice) or none (not announced).
 */
export class LowestNodeLeads implements Leadership {
  readonly fromView = true;

  constructor(private readonly peers: () => Iterable<string>) {}

  async claim(node: string): Promise<boolean> {
    for (const peer of this.peers()) if (peer < node) return false;
    return true;
  }

  async release(): Promise<void> {}
}
