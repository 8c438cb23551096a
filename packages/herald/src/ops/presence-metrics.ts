import { Counter, Gauge, type Registry } from "prom-client";

/** What presence counts on this node (presence/presence.ts `counters`, plus its local topics). */
export interface PresenceFigures {
  readonly topics: number;
  readonly joins: number;
  readonly leaves: number;
  readonly messagesSent: number;
  readonly messagesReceived: number;
  readonly expired: number;
}

/** What the webhook queue counts on this node (webhooks/queue.ts `counters`, plus its size). */
export interface WebhookFigures {
  readonly queued: number;
  readonly waiting: number;
  readonly dropped: number;
  readonly delivered: number;
  readonly retried: number;
  readonly failed: number;
}

/**
 * The presence and webhook metrics (docs/metrics.md), registered only when the feature is on.
 * Summed over `--workers` like the others. No label per topic or client.
 */
export function addPresenceMetrics(
  registry: Registry,
  presence: () => PresenceFigures,
  webhooks: (() => WebhookFigures) | undefined,
): void {
  new Gauge({
    name: "herald_presence_topics",
    help: "Watched topics with at least one stream on this node",
    registers: [registry],
    collect() {
      this.set(presence().topics);
    },
  });
  new Counter({
    name: "herald_presence_changes_total",
    help: "Streams that joined or left a watched topic on this node",
    labelNames: ["change"],
    registers: [registry],
    collect() {
      const f = presence();
      this.reset();
      this.inc({ change: "join" }, f.joins);
      this.inc({ change: "leave" }, f.leaves);
    },
  });
  new Counter({
    name: "herald_presence_messages_total",
    help: "Presence messages (snapshots, deltas) sent to and received from the other nodes",
    labelNames: ["direction"],
    registers: [registry],
    collect() {
      const f = presence();
      this.reset();
      this.inc({ direction: "sent" }, f.messagesSent);
      this.inc({ direction: "received" }, f.messagesReceived);
    },
  });
  new Counter({
    name: "herald_presence_expired_nodes_total",
    help: "Nodes forgotten because their heartbeats stopped (died or cut off)",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(presence().expired);
    },
  });
  if (webhooks === undefined) return;
  new Gauge({
    name: "herald_webhook_queue",
    help: "Webhook events waiting to be delivered (sending ones included)",
    registers: [registry],
    collect() {
      this.set(webhooks().waiting);
    },
  });
  new Counter({
    name: "herald_webhook_deliveries_total",
    help: "Webhook attempts by outcome: delivered (2xx), retried (failed, tried again later), failed (given up)",
    labelNames: ["outcome"],
    registers: [registry],
    collect() {
      const f = webhooks();
      this.reset();
      this.inc({ outcome: "delivered" }, f.delivered);
      this.inc({ outcome: "retried" }, f.retried);
      this.inc({ outcome: "failed" }, f.failed);
    },
  });
  new Counter({
    name: "herald_webhook_dropped_total",
    help: "Webhook events dropped because the queue was full (--webhook-max-queue)",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(webhooks().dropped);
    },
  });
}
