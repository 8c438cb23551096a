import { describe } from "node:test";
import { REDIS_BIN, skipReason, startRedis } from "../helpers/brokers.ts";
import { startNode } from "../helpers/cluster.ts";
import { runIdScopeSuite } from "../helpers/id-scope-suite.ts";
import { TEST_SECRET } from "../helpers/tokens.ts";

const skip = skipReason(REDIS_BIN, "redis-server");

describe("on Redis", { skip }, () => {
  runIdScopeSuite("Redis bus, two nodes (publishes and streams on either)", async () => {
    const redis = await startRedis();
    const started = [0, 1].map(() => startNode(redis.url, ["--jwt-secret", TEST_SECRET]));
    const nodes = await Promise.all(started).catch(async (error: unknown) => {
      // a node that did not start: stop what did, and Redis, before failing
      for (const node of await Promise.allSettled(started)) {
        if (node.status === "fulfilled") await node.value.kill("SIGTERM");
      }
      await redis.stop();
      throw error;
    });
    return {
      url: nodes[0]!.url,
      stop: async () => {
        for (const node of nodes) await node.kill("SIGTERM");
        await redis.stop();
      },
    };
  });
});
