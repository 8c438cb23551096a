import type { Bus } from "../core/bus.ts";
import type { PublishLimits } from "../core/event.ts";
import type { HistoryOptions } from "../core/history.ts";
import type { TopicSelector } from "../core/topic.ts";
import type { BusLog } from "./log-bus.ts";
import { MemoryBus } from "./memory.ts";
import { RabbitMqBus } from "./rabbitmq.ts";
import { RedisBus } from "./redis.ts";
import { isRedisUrl, redact } from "./redis-url.ts";

export interface BusSettings {
  /**
   * `memory`, `redis://host:port/db`, `redis+sentinel://host:port,.../<master>/db`,
   * `redis+cluster://host:port,...` (src/buses/redis-url.ts) or `amqp://user:pass@host:port/vhost`
   * (checked by the config).
   */
  readonly bus: string;
  readonly history: HistoryOptions;
  /** Redis: most entries the shared log keeps (`--bus-retention`). */
  readonly retention?: number;
  readonly limits?: PublishLimits;
  /** Topics whose events are always private, applied to events producers write to the broker. */
  readonly privateTopics?: readonly TopicSelector[];
  readonly log?: BusLog;
}

/** Builds the bus named by `--bus` / HERALD_BUS. */
export function createBus(settings: BusSettings): Bus {
  const { bus } = settings;
  if (bus === "memory") return new MemoryBus({ history: settings.history });
  if (isRedisUrl(bus)) {
    return new RedisBus({ url: bus, ...settings });
  }
  if (/^amqps?:\/\//.test(bus)) {
    return new RabbitMqBus({ url: bus, ...settings });
  }
  throw new Error(
    `unknown bus ${JSON.stringify(redactBusUrl(bus))}: use memory, redis://host:port/db, redis+sentinel://host:port,host:port/<master>/db, redis+cluster://host:port,host:port or amqp://user:pass@host:port/vhost`,
  );
}

/** The bus setting with any password replaced by `***`, for logs. */
export function redactBusUrl(bus: string): string {
  if (/^redis\+/.test(bus)) return redact(bus);
  try {
    const url = new URL(bus);
    if (url.password === "") return bus;
    url.password = "***";
    return url.toString();
  } catch {
    return bus;
  }
}
