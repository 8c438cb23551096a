import { after, before, describe, it } from "node:test";
import { RABBIT_BIN, REDIS_BIN, skipReason, startRabbit, startRedis } from "./brokers.ts";
import type { HeraldNode } from "./cluster.ts";

/** A scenario on a shared bus: it starts its Herald nodes with `busUrl` and pushes each into `nodes`. */
export type SharedBusScenario = (busUrl: string, nodes: HeraldNode[]) => Promise<void>;

/**
 * Registers, in the calling `describe`, a `describe("Redis")` and a `describe("RabbitMQ")` (each
 * skipped when its server is not installed), each with one test `name` that runs `scenario` against a
 * fresh broker of its own. After the test, pass or fail, every node in `nodes` is sent SIGTERM (and
 * awaited) and then the broker is stopped.
 */
export function itOnEachSharedBus(name: string, scenario: SharedBusScenario): void {
  const buses = [
    { title: "Redis", skip: skipReason(REDIS_BIN, "redis-server"), start: startRedis },
    { title: "RabbitMQ", skip: skipReason(RABBIT_BIN, "rabbitmq-server"), start: startRabbit },
  ];
  for (const bus of buses) {
    describe(bus.title, { skip: bus.skip }, () => {
      let broker: { url: string; stop(): Promise<void> } | undefined;
      const nodes: HeraldNode[] = [];
      before(async () => {
        broker = await bus.start();
      });
      after(async () => {
        for (const node of nodes) await node.kill("SIGTERM");
        await broker?.stop();
      });
      it(name, async () => {
        if (broker === undefined) throw new Error(`${bus.title} did not start`);
        await scenario(broker.url, nodes);
      });
    });
  }
}
