import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createBus, redactBusUrl } from "../../packages/herald/src/buses/index.ts";
import { MemoryBus } from "../../packages/herald/src/buses/memory.ts";
import { RabbitMqBus } from "../../packages/herald/src/buses/rabbitmq.ts";
import { RedisBus } from "../../packages/herald/src/buses/redis.ts";
import { streamIdToPos } from "../../packages/herald/src/buses/redis-log.ts";
import { HeraldError } from "../../packages/herald/src/core/errors.ts";
import { freePort } from "../helpers/brokers.ts";

describe("bus helpers", () => {
  it("Redis stream ids become positions that increase in log order", () => {
    const ids = ["1700000000000-0", "1700000000000-1", "1700000000000-1023", "1700000000001-0"];
    const positions = ids.map((id) => streamIdToPos(id)!);
    for (let i = 1; i < positions.length; i++) assert.ok(positions[i]! > positions[i - 1]!);
    assert.equal(streamIdToPos("8796093022207-1023"), Number.MAX_SAFE_INTEGER, "exact until the year 2248");
    assert.equal(streamIdToPos("8796093022208-0"), undefined);
    assert.equal(streamIdToPos("1700000000000-1024"), undefined, "more than 1024 per ms is refused");
    assert.equal(streamIdToPos("nonsense"), undefined);
  });

  it("logs never show a broker password", () => {
    assert.equal(redactBusUrl("amqp://herald:s3cret@rabbit:5672/prod"), "amqp://herald:***@rabbit:5672/prod");
    assert.equal(redactBusUrl("redis://127.0.0.1:6379/0"), "redis://127.0.0.1:6379/0");
    assert.equal(redactBusUrl("memory"), "memory");
  });

  it("createBus picks the bus from the setting", async () => {
    const history = { maxEvents: 10, maxAgeMs: 0 };
    assert.ok(createBus({ bus: "memory", history }) instanceof MemoryBus);
    assert.throws(() => createBus({ bus: "kafka://x", history }), /use memory, redis:\/\/.* or amqp:\/\//);
  });

  it("with the broker unreachable: not ready with the reason, appends refused with retry-after, close is prompt", async () => {
    const port = await freePort();
    const options = { history: { maxEvents: 10, maxAgeMs: 0 }, startWaitMs: 200, deliveryWaitMs: 200 };
    const buses = [
      new RedisBus({ url: `redis://127.0.0.1:${port}`, ...options }),
      new RabbitMqBus({ url: `amqp://guest:guest@127.0.0.1:${port}`, ...options }),
    ];
    for (const bus of buses) {
      await bus.start(() => {});
      const status = bus.status();
      assert.equal(status.ready, false);
      assert.match(
        status.reason ?? "",
        new RegExp(`(Redis|RabbitMQ) at 127\\.0\\.0\\.1:${port} is unreachable`),
      );
      await assert.rejects(
        bus.append([{ topics: ["t"], data: "x" }]),
        (error: unknown) =>
          error instanceof HeraldError && error.code === "unavailable" && error.retryAfterSeconds === 2,
      );
      await assert.rejects(
        bus.replay("x", 10),
        (error: unknown) => (error as HeraldError).code === "unavailable",
      );
      await bus.close();
    }
  });
});
