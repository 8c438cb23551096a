import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Connection } from "rabbitmq-client";
import { RabbitMqBus } from "../../packages/herald/src/buses/rabbitmq.ts";
import { rabbitNames } from "../../packages/herald/src/buses/rabbitmq-wire.ts";
import type { Bus } from "../../packages/herald/src/core/bus.ts";
import { parseHubId } from "../../packages/herald/src/core/ids.ts";
import { Tail } from "../bus-contract.ts";
import { RABBIT_BIN, type RabbitServer, skipReason, startRabbit } from "../helpers/brokers.ts";
import { until } from "../helpers/waiters.ts";

// The RabbitMQ bus's cluster mode (several hosts in the URL: the connection rotates over them, the
// epoch is the first message of a replicated stream), on one node listed twice. A real 3-node
// cluster losing a node under load is `npm run chaos -- --bus rabbitmq-cluster` (its boot alone
// takes most of a minute on the test machine).

const skip = skipReason(RABBIT_BIN, "rabbitmq-server");

describe("RabbitMQ bus with several hosts in the URL (one node listed twice)", { skip }, () => {
  let rabbit: RabbitServer | undefined;
  const buses: Bus[] = [];
  after(async () => {
    for (const bus of buses) await bus.close();
    await rabbit?.stop();
  });

  it("every node gets every event once, in one order; the epoch lives in the replicated epoch stream; a lost log is a new epoch", async () => {
    rabbit = await startRabbit();
    const address = rabbit.url.replace("amqp://guest:guest@", "");
    const open = () => {
      const bus = new RabbitMqBus({
        url: `amqp://guest:guest@${address},${address}`,
        prefix: "hosts",
        history: { maxEvents: 1000, maxAgeMs: 0 },
      });
      buses.push(bus);
      return new Tail(bus).start();
    };
    const [a, b] = [await open(), await open()];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).bus.append([{ topics: ["t"], data: `e${i}` }])),
    );
    await a.has(20);
    await b.has(20);
    assert.deepEqual(a.ids(), b.ids());
    const names = rabbitNames("hosts");
    const connection = new Connection(rabbit.url);
    try {
      // the epoch is the first message of the epoch stream; no one-node classic queue is made
      const ch = await connection.acquire();
      const epoch = await new Promise<string>((resolve) => {
        void ch
          .basicQos({ prefetchCount: 1 })
          .then(() =>
            ch.basicConsume(
              { queue: names.epochStream, noAck: false, arguments: { "x-stream-offset": "first" } },
              (msg) => resolve(String(msg.body)),
            ),
          );
      });
      await ch.close();
      assert.equal(parseHubId(a.ids()[0]!)?.epoch, epoch);
      await assert.rejects(connection.queueDeclare({ queue: names.epoch, passive: true }), /NOT_FOUND/);
      // a node started later loads the same log under the same epoch
      const c = await open();
      const replay = await c.bus.replay(a.ids()[9]!, 100);
      assert.deepEqual(replay.kind === "events" ? replay.events.map((e) => e.id) : replay, a.ids().slice(10));
      // the log and its epoch stream deleted: every node is told (a new epoch), then goes on
      await connection.queueDelete({ queue: names.stream });
      await connection.queueDelete({ queue: names.epochStream });
    } finally {
      await connection.close();
    }
    await until(() => a.lost > 0 && b.lost > 0, "a new epoch on every node", 30_000);
    await until(() => a.bus.status().ready, "node a tailing the new log", 30_000);
    const [next] = await a.bus.append([{ topics: ["t"], data: "after" }]);
    assert.notEqual(parseHubId(next!.event.id)?.epoch, parseHubId(a.ids()[0]!)?.epoch);
    await until(() => b.events.at(-1)?.data === "after", "the new log's event on node b", 30_000);
  });
});
