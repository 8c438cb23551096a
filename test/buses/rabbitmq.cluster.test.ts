import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { RABBIT_BIN, skipReason, startRabbit } from "../helpers/brokers.ts";
import { Client, expectAllDelivered, publishTo, startNode } from "../helpers/cluster.ts";
import {
  itDeliversEverywhere,
  itResumesAfterNodeKill,
  publishThroughOutage,
  useCluster,
} from "../helpers/cluster-suite.ts";
import { until } from "../helpers/waiters.ts";

const skip = skipReason(RABBIT_BIN, "rabbitmq-server");

describe("three Herald processes on one RabbitMQ", { skip }, () => {
  const cluster = useCluster(startRabbit);

  itDeliversEverywhere(cluster);

  it("RabbitMQ stopped and started while a publisher runs: every acknowledged event arrives once", async () => {
    const { publisher } = await publishThroughOutage(cluster, () => cluster.broker.halt(), "RabbitMQ");
    // a node started while RabbitMQ is down starts, says why it is not ready, and becomes ready later
    const late = await startNode(cluster.broker.url, [], false);
    let lateClient: Client | undefined;
    // stopped whatever fails: a node or a client left running would hold the file open
    try {
      const lateReady = await fetch(`${late.url}/readyz`);
      assert.equal(lateReady.status, 503);
      assert.match(JSON.stringify(await lateReady.json()), /RabbitMQ at 127\.0\.0\.1/);
      await cluster.broker.start();
      await publisher;
      await expectAllDelivered(cluster.clients, cluster.acked);
      let lateIsReady = false;
      while (!lateIsReady) {
        lateIsReady = (await fetch(`${late.url}/readyz`)).status === 200;
        await new Promise((r) => setTimeout(r, 100));
      }
      lateClient = new Client([late], 0, "prices");
      await lateClient.open();
      assert.ok(await publishTo(cluster.nodes[1]!, "prices", "late"));
      cluster.acked.push("late");
      await expectAllDelivered([...cluster.clients, lateClient], ["late"]);
    } finally {
      lateClient?.close();
      await late.kill("SIGTERM");
    }
  });

  itResumesAfterNodeKill(cluster);

  it("ingest: the example price ticker publishes straight to RabbitMQ and every node delivers", async () => {
    const watchers = [1, 2].map((i) => new Client(cluster.nodes, i, "prices/*", "price"));
    await Promise.all(watchers.map((w) => w.open()));
    const ticker = spawn(
      process.execPath,
      ["--import", "tsx", "examples/price-ticker.ts", cluster.broker.url, "--count", "3", "--interval", "50"],
      { stdio: "ignore" },
    );
    const code = await new Promise((resolve) => ticker.once("exit", resolve));
    assert.equal(code, 0);
    for (const watcher of watchers) {
      await until(() => watcher.data.length >= 9, "9 prices", 120_000);
      assert.equal(new Set(watcher.data).size, 9);
      assert.match(watcher.data[0]!, /"symbol":"EURUSD","price":\d/);
      watcher.close();
    }
    assert.deepEqual(watchers[0]!.data, watchers[1]!.data);
  });
});
