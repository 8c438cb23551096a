import type { HeraldConfig } from "../config/settings.ts";
import type { Bus } from "../core/bus.ts";
import type { Hub } from "../core/hub.ts";
import { parseSelector } from "../core/topic.ts";
import type { PresenceFigures, WebhookFigures } from "../ops/presence-metrics.ts";
import { WEBHOOK_CONCURRENCY, Webhooks } from "../webhooks/webhooks.ts";
import { RabbitPresence } from "./adapters/rabbitmq.ts";
import { RedisPresence } from "./adapters/redis.ts";
import { type Leadership, LocalChannel, type PresenceChannel } from "./channel.ts";
import { LowestNodeLeads } from "./lowest-leads.ts";
import { Presence } from "./presence.ts";

export type PresenceSettings = Pick<
  HeraldConfig,
  | "bus"
  | "presence"
  | "presenceHeartbeatMs"
  | "webhookUrl"
  | "webhookSecret"
  | "webhookEvents"
  | "webhookTimeoutMs"
  | "webhookAttempts"
  | "webhookMaxQueue"
>;

export interface PresenceMount {
  readonly presence: Presence;
  readonly webhooks: Webhooks | undefined;
  readonly figures: () => PresenceFigures;
  readonly webhookFigures: (() => WebhookFigures) | undefined;
  /**
   * Stops presence and webhooks. `deadline` (ms since the Unix epoch; default now: no wait): a
   * graceful stop, after this node's streams ended, first announces their leaves (and vacated
   * topics, when this node leads) and keeps sending the queued webhooks until then.
   */
  close(deadline?: number): Promise<void>;
}

type Log = { warn(fields: object, message: string): void };

/**
 * `workers`: the processes of a `--workers` node (default 1); each takes its share of the node's
 * webhook bounds (queue and calls at once, at least 1 each).
 *
 * Builds presence and webhooks when `--presence` is set (undefined otherwise: nothing runs), with
 * the channel of the bus: `cluster` (a `--workers` worker on the memory bus), else memory (alone),
 * Redis pub/sub and lease, or a RabbitMQ fanout exchange. The join and leave events go through
 * `hub` to `bus`: a node leads only while `bus` can store them. Resolves once the channel listens.
 */
export async function startPresence(
  settings: PresenceSettings,
  hub: Hub,
  bus: Pick<Bus, "status">,
  log: Log,
  cluster?: PresenceChannel,
  workers = 1,
): Promise<PresenceMount | undefined> {
  if (settings.presence.length === 0) return undefined;
  const webhooks =
    settings.webhookUrl === ""
      ? undefined
      : new Webhooks({
          url: settings.webhookUrl,
          secret: settings.webhookSecret,
          events: settings.webhookEvents,
          timeoutMs: settings.webhookTimeoutMs,
          attempts: settings.webhookAttempts,
          maxQueued: Math.max(1, Math.floor(settings.webhookMaxQueue / workers)),
          concurrency: Math.max(1, Math.floor(WEBHOOK_CONCURRENCY / workers)),
          log,
        });
  const onError = (error: Error) => log.warn({ err: error }, "presence channel error");
  let channel: PresenceChannel;
  let leadership: Leadership;
  let warmUp = true;
  let presence: Presence | undefined;
  if (cluster !== undefined) {
    channel = cluster;
    leadership = new LowestNodeLeads(
      () => presence?.table.warmPeers() ?? [],
      () => presence?.table.peerNodes() ?? [],
    );
  } else if (settings.bus === "memory") {
    const local = new LocalChannel();
    channel = local;
    leadership = local;
    warmUp = false;
  } else if (/^amqps?:\/\//.test(settings.bus)) {
    const node = { id: "" };
    channel = new RabbitPresence(settings.bus, node, onError);
    leadership = new LowestNodeLeads(
      () => presence?.table.warmPeers() ?? [],
      () => presence?.table.peerNodes() ?? [],
    );
    presence = build();
    node.id = presence.node;
  } else {
    const redis = new RedisPresence(settings.bus, onError);
    channel = redis;
    leadership = redis;
  }
  function build(): Presence {
    return new Presence({
      watched: settings.presence.map(parseSelector),
      heartbeatMs: settings.presenceHeartbeatMs,
      channel,
      leadership,
      warmUp,
      publish: (topic, data) => hub.publish([{ topics: [topic], data, type: "presence", private: true }]),
      canPublish: () => bus.status().ready,
      events: webhooks,
      log,
    });
  }
  presence ??= build();
  const started = presence;
  await started.start();
  return {
    presence: started,
    webhooks,
    figures: () => ({ topics: started.table.local.size, ...started.counters }),
    webhookFigures:
      webhooks === undefined
        ? undefined
        : () => ({ ...webhooks.queue.counters, waiting: webhooks.queue.size }),
    async close(deadline = Date.now()) {
      await started.flush();
      await webhooks?.drain(deadline);
      webhooks?.close();
      await started.close();
    },
  };
}
