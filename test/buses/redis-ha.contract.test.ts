import { createCluster } from "redis";
import { RedisBus } from "../../packages/herald/src/buses/redis.ts";
import { runBusContract } from "../bus-contract.ts";
import { REDIS_BIN, skipReason } from "../helpers/brokers.ts";
import { startRedisCluster } from "../helpers/redis-ha.ts";

// The Bus contract, unchanged, on a Redis Cluster (3 primaries, a replica each; docs/buses.md) with
// the default wait=auto (so every publish waits for a replica): every script's keys in one slot.
// A Sentinel group's primary is what redis-failover.test.ts and the redis-sentinel fault run use.

const skip = skipReason(REDIS_BIN, "redis-server");

const STORE_AND_DROP =
  "for i = 1, 5 do redis.call('XADD', KEYS[1], '*', 'topic', 't', 'data', 'lost' .. i) end redis.call('XTRIM', KEYS[1], 'MAXLEN', 0)";

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
