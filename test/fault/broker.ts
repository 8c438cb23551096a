import { startRabbit, startRedis } from "../helpers/brokers.ts";
import type { Target } from "./schedule.ts";

/** The broker of a fault run, with the one fault it takes: a crash (SIGKILL) and a start on the same data. */
export interface Broker {
  readonly url: string;
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Redis with `appendonly yes` and `appendfsync always` (a crash may lose nothing acknowledged), or
 * RabbitMQ (a stream queue: confirmed means written); none for the memory bus.
 */
export async function startBroker(target: Target): Promise<Broker | undefined> {
  if (target === "redis") return startRedis({ durable: true });
  if (target === "rabbitmq") return startRabbit();
  return undefined;
}
