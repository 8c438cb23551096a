import { startRabbit, startRedis } from "../helpers/brokers.ts";
import { startRabbitCluster } from "../helpers/rabbit-cluster.ts";
import { replicasUp, startRedisCluster, startSentinelGroup, waitFor } from "../helpers/redis-ha.ts";
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
  /** A cluster: SIGKILLs node `index`, then starts it again after `ms` (it rejoins). */
  killNode?(index: number, ms: number): Promise<void>;
  stop(): Promise<void>;
}

/** The Redis Cluster slot of Herald's log (the keys `{herald}:...`). */
const LOG_KEY = "{herald}:log";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function noCrash(target: Target): never {
  throw new Error(`${target} takes the loss of one node, not kill-broker`);
}

/**
 * Redis with `appendonly yes` and `appendfsync always` (a crash may lose nothing acknowledged), or
 * RabbitMQ (a stream queue: confirmed means written); a primary with 2 replicas and 3 Sentinels, or
 * a Redis Cluster of 3 primaries with a replica each (what a crash of the primary may lose is what
 * no replica got: Herald's `wait=`); a 3-node RabbitMQ cluster; none for the memory bus.
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
        const next = await group.failedOver(old);
        await sleep(ms);
        await old.start();
        // the other replica re-syncs with the promoted primary: until one replica is online,
        // publishes (wait=1) are rightly refused; the schedule's next step starts once one is
        await waitFor(() => replicasUp(next.port, 1), "a replica to sync with the new primary", 30_000);
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
        const next = await cluster.failedOver(old, LOG_KEY);
        await sleep(ms);
        await old.start();
        // the promoted primary's one replica is the old primary, syncing again: until it is online,
        // publishes (wait=1) are rightly refused; the schedule's next step starts once it is
        await waitFor(() => replicasUp(next.port, 1), "the old primary to sync as a replica", 30_000);
      },
      stop: () => cluster.stop(),
    };
  }
  if (target === "rabbitmq-cluster") {
    const cluster = await startRabbitCluster();
    return {
      url: cluster.url,
      kill: async () => {}, // (stop() kills every process of it)
      start: () => noCrash(target),
      async killNode(index, ms) {
        const node = cluster.nodes[index % cluster.nodes.length]!;
        await node.kill();
        await sleep(ms);
        await node.start();
      },
      stop: () => cluster.stop(),
    };
  }
  return undefined;
}
