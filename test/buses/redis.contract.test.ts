import { createClient } from "redis";
import { RedisBus } from "../../src/buses/redis.ts";
import { runBusContract } from "../bus-contract.ts";
import { REDIS_BIN, skipReason, startRedis } from "../helpers/brokers.ts";

const skip = skipReason(REDIS_BIN, "redis-server");

runBusContract(
  "redis (real redis-server)",
  async () => {
    const redis = await startRedis();
    return {
      shared: true,
      open: (log, options) =>
        new RedisBus({
          url: redis.url,
          keyPrefix: log,
          history: { maxEvents: options?.maxEvents ?? 1000, maxBytes: options?.maxBytes, maxAgeMs: 0 },
        }),
      lose: async () => {
        const client = createClient({ url: redis.url });
        await client.connect();
        await client.flushAll();
        client.destroy();
      },
      close: () => redis.stop(),
    };
  },
  { skip },
);
