import { createCluster } from "redis";
import { RedisBus } from "../../packages/herald/src/buses/redis.ts";
import { runBusContract } from "../bus-contract.ts";
import { REDIS_BIN, skipReason } from "../helpers/brokers.ts";
import { redisCommand, startRedisCluster, startSentinelGroup } from "../helpers/redis-ha.ts";

// The Bus contract, unchanged, on the replicated Redis deployments (docs/buses.md): the primary of
// a Sentinel group (2 replicas, 3 Sentinels) and a Redis Cluster (3 primaries, a replica each),
// both with the default wait=auto (so every publish waits for a replica).

const skip = skipReason(REDIS_BIN, "redis-server");

const STORE_AND_DROP =
  "for i = 1, 5 do redis.call('XADD', KEYS[1], '*', 'topic', 't', 'data', 'lost' .. i) end redis.call('XTRIM', KEYS[1], 'MAXLEN', 0)";

runBusContract(
  "redis+sentinel (a primary, 2 replicas, 3 Sentinels)",
  async () => {
    const group = await startSentinelGroup();
    const onPrimary = async (script: (port: number) => Promise<unknown>): Promise<void> => {
      await script((await group.primary()).port);
    };
    return {
      shared: true,
      open: (log, options) =>
        new RedisBus({
          url: group.url,
          keyPrefix: log,
          history: { maxEvents: options?.maxEvents ?? 1000, maxBytes: options?.maxBytes, maxAgeMs: 0 },
        }),
      lose: () => onPrimary((port) => redisCommand(port, ["FLUSHALL"])),
      loseUnread: (log) =>
        onPrimary((port) => redisCommand(port, ["EVAL", STORE_AND_DROP, "1", `${log}:log`])),
      close: () => group.stop(),
    };
  },
  { skip },
);

runBusContract(
  "redis+cluster (3 primaries, a replica each)",
  async () => {
    const cluster = await startRedisCluster();
    const onCluster = async (
      op: (client: ReturnType<typeof createCluster>) => Promise<unknown>,
    ): Promise<void> => {
      const client = createCluster({
        rootNodes: cluster.servers.map((s) => ({ socket: { host: "127.0.0.1", port: s.port } })),
      });
      client.on("error", () => {});
      await client.connect();
      try {
        await op(client);
      } finally {
        client.destroy();
      }
    };
    return {
      shared: true,
      open: (log, options) =>
        new RedisBus({
          url: cluster.url,
          keyPrefix: log,
          history: { maxEvents: options?.maxEvents ?? 1000, maxBytes: options?.maxBytes, maxAgeMs: 0 },
        }),
      // the log's keys are `{<log>}:...`: one slot, on one primary
      lose: (log) => onCluster((client) => client.sendCommand(`{${log}}:log`, false, ["FLUSHALL"])),
      loseUnread: (log) =>
        onCluster((client) =>
          client.sendCommand(`{${log}}:log`, false, ["EVAL", STORE_AND_DROP, "1", `{${log}}:log`]),
        ),
      close: () => cluster.stop(),
    };
  },
  { skip },
);
