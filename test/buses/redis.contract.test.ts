import { createClient } from "redis";
import { RedisBus } from "../../packages/herald/src/buses/redis.ts";
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
      // stored and trimmed in one atomic step: no node can read them in between
      loseUnread: async (log) => {
        const client = createClient({ url: redis.url });
        await client.connect();
        await client.eval(
          "for i = 1, 5 do redis.call('XADD', KEYS[1], '*', 'topic', 't', 'data', 'lost' .. i) end redis.call('XTRIM', KEYS[1], 'MAXLEN', 0)",
          { keys: [`${log}:log`] },
        );
        client.destroy();
      },
      close: () => redis.stop(),
    };
  },
  { skip },
);
