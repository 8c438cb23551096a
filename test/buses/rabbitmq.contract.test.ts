import { Connection } from "rabbitmq-client";
import { RabbitMqBus } from "../../src/buses/rabbitmq.ts";
import { rabbitNames } from "../../src/buses/rabbitmq-wire.ts";
import { runBusContract } from "../bus-contract.ts";
import { RABBIT_BIN, skipReason, startRabbit } from "../helpers/brokers.ts";

const skip = skipReason(RABBIT_BIN, "rabbitmq-server");

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
        }),
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
