import { describe } from "node:test";
import { REDIS_BIN, skipReason, startRedis } from "../helpers/brokers.ts";
import { startNode } from "../helpers/cluster.ts";
import { FORGOTTEN_SUITE_HISTORY, runForgottenIdSuite } from "../helpers/forgotten-id-suite.ts";
import { TEST_SECRET } from "../helpers/tokens.ts";

const skip = skipReason(REDIS_BIN, "redis-server");

describe("on Redis", { skip }, () => {
  runForgottenIdSuite("Redis bus, two nodes sharing the log", async () => {
    const redis = await startRedis();
    const flags = ["--jwt-secret", TEST_SECRET, "--history-size", String(FORGOTTEN_SUITE_HISTORY)];
    const started = [0, 1].map(() => startNode(redis.url, flags));
    const nodes = await Promise.all(started).catch(async (error: unknown) => {
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
