import { describe, it } from "node:test";
import { REDIS_BIN, skipReason, startRedis } from "../helpers/brokers.ts";
import { expectAllDelivered } from "../helpers/cluster.ts";
import {
  itDeliversEverywhere,
  itResumesAfterNodeKill,
  publishThroughOutage,
  useCluster,
} from "../helpers/cluster-suite.ts";

const skip = skipReason(REDIS_BIN, "redis-server");

describe("three Herald processes on one Redis", { skip }, () => {
  const cluster = useCluster(() => startRedis({ durable: true }));

  itDeliversEverywhere(cluster);

  it("Redis killed with SIGKILL while a publisher runs: every acknowledged event arrives once", async () => {
    const { publisher } = await publishThroughOutage(cluster, () => cluster.broker.kill(), "Redis");
    await cluster.broker.start();
    await publisher;
    await expectAllDelivered(cluster.clients, cluster.acked);
  });

  itResumesAfterNodeKill(cluster);
});
