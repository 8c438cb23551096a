import cluster, { type Worker } from "node:cluster";
import type { PresenceChannel, PresenceMessage } from "../presence/channel.ts";

/**
 * Presence between the workers of `--workers N` on the memory bus, over node:cluster's IPC
 * (JSON), beside the ClusterBus, figures and limits messages:
 * worker -> primary: `presence` {message}; primary -> every other worker: the same.
 * Per worker, in order both ways (IPC); none is lost while both ends live. Who leads is decided
 * from the view, as on RabbitMQ (`LowestNodeLeads`): the warm worker with the lowest node id, so
 * a killed leader's members are announced gone by a worker that heard them, not by its
 * replacement (which never did).
 */
export type PresenceIpc = { herald: "presence"; message: PresenceMessage };

/** Primary side: relays each worker's presence messages to the others. Call once, in the primary. */
export function serveClusterPresence(): void {
  cluster.on("message", (from: Worker, ipc: PresenceIpc) => {
    if (ipc?.herald !== "presence") return;
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (worker !== undefined && worker !== from && worker.isConnected()) worker.send(ipc);
    }
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
