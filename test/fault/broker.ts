import { startRabbit, startRedis } from "../helpers/brokers.ts";
import { startRedisCluster, startSentinelGroup } from "../helpers/redis-ha.ts";
import type { Target } from "./schedule.ts";

/**
 * The broker of a fault run, with the faults it takes: a crash (SIGKILL) and a start on the same
 * data (one server), or the loss of the Redis primary (replicated targets).
 */
export interface Broker {
  readonly url: string;
  kill(): Promise<void>;
  start(): Promise<void>;
  /**
   * Replicated targets: SIGKILLs the primary that holds Herald's log, waits until a replica took
   * over, then starts the old one again after `ms` (it rejoins as a replica).
   */
  killPrimary?(ms: number): Promise<void>;
  stop(): Promise<void>;
}

/** The Redis Cluster slot of Herald's log (the keys `{herald}:...`). */
const LOG_KEY = "{herald}:log";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function noCrash(target: Target): never {
  throw new Error(`${target} takes kill-primary, not kill-broker`);
}

/**
 * Redis with `appendonly yes` and `appendfsync always` (a crash may lose nothing acknowledged), or
 * RabbitMQ (a stream queue: confirmed means written); a primary with 2 replicas and 3 Sentinels, or
 * a Redis Cluster of 3 primaries with a replica each (what a crash of the primary may lose is what
 * no replica got: Herald's `wait=`); none for the memory bus.
 */
export async function startBroker(target: Target): Promise<Broker | undefined> {
  if (target === "redis") return startRedis({ durable: true });
  if (target === "rabbitmq") return startRabbit();
  if (target === "redis-sentinel") {
    const group = await startSentinelGroup();
    return {
      url: group.url,
      kill: async () => {}, // (stop() kills every process of it)
      start: () => noCrash(target),
      async killPrimary(ms) {
        const old = await group.killPrimary();
        await group.failedOver(old);
        await sleep(ms);
        await old.start();
      },
      stop: () => group.stop(),
    };
  }
  if (target === "redis-cluster") {
    const cluster = await startRedisCluster();
    return {
      url: cluster.url,
      kill: async () => {}, // (stop() kills every process of it)
      start: () => noCrash(target),
      async killPrimary(ms) {
        const old = await cluster.primaryOf(LOG_KEY);
        await old.kill();
        await cluster.failedOver(old, LOG_KEY);
        await sleep(ms);
        await old.start();
      },
      stop: () => cluster.stop(),
    };
  }
  return undefined;
}
