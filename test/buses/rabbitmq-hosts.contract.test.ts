import { Connection } from "rabbitmq-client";
import { RabbitMqBus } from "../../packages/herald/src/buses/rabbitmq.ts";
import { rabbitNames } from "../../packages/herald/src/buses/rabbitmq-wire.ts";
import { runBusContract } from "../bus-contract.ts";
import { RABBIT_BIN, skipReason, startRabbit } from "../helpers/brokers.ts";

// The Bus contract in the RabbitMQ bus's cluster mode (several hosts in the URL: the epoch is the
// first message of a replicated stream, the connection rotates over the hosts), on one node listed
// twice: the 3-node cluster itself, and a node of it killed under load, run in
// `npm run chaos -- --bus rabbitmq-cluster` (its boot alone takes most of a minute here).

const skip = skipReason(RABBIT_BIN, "rabbitmq-server");

runBusContract(
  "rabbitmq, several hosts in the URL (cluster mode, one node listed twice)",
  async () => {
    const rabbit = await startRabbit();
    const address = rabbit.url.replace("amqp://guest:guest@", "");
    const url = `amqp://guest:guest@${address},${address}`;
    return {
      shared: true,
      open: (log, options) =>
        new RabbitMqBus({
          url,
          prefix: log,
          history: { maxEvents: options?.maxEvents ?? 1000, maxBytes: options?.maxBytes, maxAgeMs: 0 },
        }),
      lose: async (log) => {
        const connection = new Connection(rabbit.url);
        const names = rabbitNames(log);
        await connection.queueDelete({ queue: names.stream });
        await connection.queueDelete({ queue: names.epochStream });
        await connection.close();
      },
      close: () => rabbit.stop(),
    };
  },
  { skip },
);
