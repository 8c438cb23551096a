import cluster, { type Worker } from "node:cluster";
import { performance } from "node:perf_hooks";
import type { PresenceChannel, PresenceMessage } from "../presence/channel.ts";
import { PresenceMemory } from "./presence-memory.ts";

/**
 * Presence between the workers of `--workers N` on the memory bus, over node:cluster's IPC
 * (JSON), beside the ClusterBus, figures and limits messages:
 * worker -> primary: `presence` {message}; primary -> every other worker: the same, and to a
 * worker that starts, the last counts of every other worker within its TTL.
 * Per worker, in order both ways (IPC); none is lost while both ends live. Who leads is decided
 * from the view, as on RabbitMQ (`LowestNodeLeads`): the warm worker with the lowest node id, the
 * eldest (`newNodeId`), so a killed worker's members are announced gone by a worker that heard
 * them, not by a replacement that never did.
 */
export type PresenceIpc = { herald: "presence"; message: PresenceMessage };

/**
 * Primary side: relays each worker's presence messages to the others. Call once, in the primary.
 * It also remembers them (`PresenceMemory`): a worker's first message (it just started) is
 * answered at once with every other worker's counts, so the worker learns them even when those
 * workers die before they answer it themselves.
 */
export function serveClusterPresence(): void {
  const memory = new PresenceMemory();
  cluster.on("message", (from: Worker, ipc: PresenceIpc) => {
    if (ipc?.herald !== "presence" || typeof ipc.message?.node !== "string") return;
    const now = performance.now();
    const started = memory.heard(ipc.message, now);
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker !== undefined && worker !== from && worker.isConnected()) worker.send(ipc);
    }
    if (!started || !from.isConnected()) return;
    for (const message of memory.replay(ipc.message.node, now)) from.send({ herald: "presence", message });
  });
}

/** How a worker talks to its primary: `process.send` and 'message' in production. */
export interface PresenceIpcChannel {
  send(message: PresenceIpc): void;
  onMessage(listener: (message: PresenceIpc) => void): void;
}

/** Worker side. */
export class WorkerPresence implements PresenceChannel {
  constructor(private readonly channel: PresenceIpcChannel) {}

  async start(listener: (message: PresenceMessage) => void): Promise<void> {
    this.channel.onMessage((ipc) => {
      if (ipc?.herald === "presence") listener(ipc.message);
    });
  }

  send(message: PresenceMessage): void {
    this.channel.send({ herald: "presence", message });
  }

  async close(): Promise<void> {}
}
