import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { RABBIT_BIN, type RabbitServer, skipReason, startRabbit } from "../helpers/brokers.ts";
import { Client, expectAllDelivered, type HeraldNode, publishTo, startNode } from "../helpers/cluster.ts";

const skip = skipReason(RABBIT_BIN, "rabbitmq-server");

describe("three Herald processes on one RabbitMQ", { skip }, () => {
  let rabbit: RabbitServer;
  let nodes: HeraldNode[] = [];
  const clients: Client[] = [];
  const acked: string[] = [];

  before(async () => {
    rabbit = await startRabbit();
    nodes = await Promise.all([0, 1, 2].map(() => startNode(rabbit.url)));
    for (let i = 0; i < 6; i++) clients.push(new Client(nodes, i % 3, "prices"));
    await Promise.all(clients.map((c) => c.open()));
  });
  after(async () => {
    for (const client of clients) client.close();
    for (const node of nodes) await node.kill("SIGTERM");
    await rabbit?.stop();
  });

  it("every subscriber on every node gets every event once, in one order", async () => {
    for (let i = 0; i < 60; i++) {
      const data = `a${i}`;
      assert.ok(await publishTo(nodes[i % 3]!, "prices", data), "publish answered 2xx");
      acked.push(data);
    }
    await expectAllDelivered(clients, acked);
  });

  it("RabbitMQ stopped and started while a publisher runs: every acknowledged event arrives once", async () => {
    let refused = 0;
    let n = 0;
    const publisher = (async () => {
      for (; acked.length < 60 + 150; n++) {
        const data = `b${n}`;
        if (await publishTo(nodes[n % 3]!, "prices", data)) acked.push(data);
        else {
          refused++;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();
    await until(() => acked.length >= 60 + 40);
    await rabbit.halt();
    await until(() => refused > 0);
    const ready = await fetch(`${nodes[0]!.url}/readyz`);
    assert.equal(ready.status, 503, "not ready while RabbitMQ is down");
    assert.match(JSON.stringify(await ready.json()), /RabbitMQ/);
    const refusal = await fetch(`${nodes[1]!.url}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ topic: "prices", data: "refused" }),
    });
    assert.equal(refusal.status, 503);
    assert.ok(Number(refusal.headers.get("retry-after")) > 0, "Retry-After is set");
    // a node started while RabbitMQ is down starts, says why it is not ready, and becomes ready later
    const late = await startNode(rabbit.url, [], false);
    const lateReady = await fetch(`${late.url}/readyz`);
    assert.equal(lateReady.status, 503);
    assert.match(JSON.stringify(await lateReady.json()), /RabbitMQ at 127\.0\.0\.1/);
    await rabbit.start();
    await publisher;
    await expectAllDelivered(clients, acked);
    let lateIsReady = false;
    while (!lateIsReady) {
      lateIsReady = (await fetch(`${late.url}/readyz`)).status === 200;
      await new Promise((r) => setTimeout(r, 100));
    }
    const lateClient = new Client([late], 0, "prices");
    await lateClient.open();
    assert.ok(await publishTo(nodes[1]!, "prices", "late"));
    acked.push("late");
    await expectAllDelivered([...clients, lateClient], ["late"]);
    lateClient.close();
    await late.kill("SIGTERM");
  });

  it("a node killed with SIGKILL: its clients resume on another node with no gap", async () => {
    await nodes[0]!.kill("SIGKILL");
    for (let i = 0; i < 30; i++) {
      const data = `c${i}`;
      assert.ok(await publishTo(nodes[1 + (i % 2)]!, "prices", data));
      acked.push(data);
    }
    await expectAllDelivered(clients, acked);
  });

  it("ingest: the example price ticker publishes straight to RabbitMQ and every node delivers", async () => {
    const watchers = [1, 2].map((i) => new Client(nodes, i, "prices/*", "price"));
    await Promise.all(watchers.map((w) => w.open()));
    const ticker = spawn(
      process.execPath,
      ["--import", "tsx", "examples/price-ticker.ts", rabbit.url, "--count", "3", "--interval", "50"],
      { stdio: "ignore" },
    );
    const code = await new Promise((resolve) => ticker.once("exit", resolve));
    assert.equal(code, 0);
    for (const watcher of watchers) {
      await until(() => watcher.data.length >= 9);
      assert.equal(new Set(watcher.data).size, 9);
      assert.match(watcher.data[0]!, /"symbol":"EURUSD","price":\d/);
      watcher.close();
    }
    assert.deepEqual(watchers[0]!.data, watchers[1]!.data);
  });
});

async function until(test: () => boolean): Promise<void> {
  while (!test()) await new Promise((r) => setTimeout(r, 10));
}
