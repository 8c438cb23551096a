import { spawnSync } from "node:child_process";
import { Connection } from "rabbitmq-client";
import { RabbitMqBus } from "../../packages/herald/src/buses/rabbitmq.ts";
import { rabbitNames } from "../../packages/herald/src/buses/rabbitmq-wire.ts";
import { runBusContract } from "../bus-contract.ts";
import { RABBIT_BIN, skipReason, startRabbit } from "../helpers/brokers.ts";

const skip = skipReason(RABBIT_BIN, "rabbitmq-server");

const PUBLISH_3000 = `
import { Connection } from "rabbitmq-client";
const connection = new Connection(process.env.URL);
const publisher = connection.createPublisher({ confirm: true });
const sends = [];
for (let i = 0; i < 3000; i++) {
  sends.push(publisher.send({ exchange: process.env.EXCHANGE, routingKey: "t", durable: true }, "lost" + i));
}
await Promise.all(sends);
await publisher.close();
await connection.close();
`;

runBusContract(
  "rabbitmq (real rabbitmq-server)",
  async () => {
    const rabbit = await startRabbit();
    return {
      shared: true,
      open: (log, options) =>
        new RabbitMqBus({
          url: rabbit.url,
          prefix: log,
          history: { maxEvents: options?.maxEvents ?? 1000, maxBytes: options?.maxBytes, maxAgeMs: 0 },
          // ~20 messages per segment, ~100 kept
          ...(options?.smallRetention ? { streamBytes: { maxBytes: 20_000, segmentBytes: 4_000 } } : {}),
        }),
      // Another process publishes 3,000 messages while this one (the node) is blocked: the stream
      // keeps ~100, so the node's consumer (at most 1,000 unacknowledged ahead) falls behind it.
      loseUnread: async (log) => {
        const child = spawnSync(process.execPath, ["--input-type=module", "-e", PUBLISH_3000], {
          env: { ...process.env, URL: rabbit.url, EXCHANGE: rabbitNames(log).exchange },
          stdio: "inherit",
          timeout: 60_000,
        });
        if (child.status !== 0) throw new Error(`the publishing process failed: ${child.status}`);
      },
      lose: async (log) => {
        const connection = new Connection(rabbit.url);
        const names = rabbitNames(log);
        await connection.queueDelete({ queue: names.stream });
        await connection.queueDelete({ queue: names.epoch });
        await connection.close();
      },
      close: () => rabbit.stop(),
    };
  },
  { skip },
);
