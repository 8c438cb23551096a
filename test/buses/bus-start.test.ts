import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../packages/herald/src/config/settings.ts";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { freePort, REDIS_BIN, type RedisServer, skipReason, startRedis } from "../helpers/brokers.ts";
import { httpRequest, publish, RawStream, startTestHerald } from "../helpers/herald.ts";
import { until } from "../helpers/waiters.ts";

describe("--bus / HERALD_BUS", () => {
  it("accepts memory, redis:// and amqp:// URLs", () => {
    assert.equal(loadConfig({}, {}).bus, "memory");
    assert.equal(loadConfig({ bus: "redis://127.0.0.1:6379/0" }, {}).bus, "redis://127.0.0.1:6379/0");
    assert.equal(loadConfig({}, { HERALD_BUS: "amqp://u:p@rabbit:5672/v" }).bus, "amqp://u:p@rabbit:5672/v");
  });

  it("refuses anything else, saying what it accepts", () => {
    for (const bad of ["kafka://x:1", "redis", "localhost:6379"]) {
      assert.throws(
        () => loadConfig({ bus: bad }, {}),
        (error: unknown) =>
          error instanceof ConfigError &&
          /HERALD_BUS \/ --bus/.test(error.message) &&
          /redis:\/\//.test(error.message) &&
          /amqp:\/\//.test(error.message),
      );
    }
  });
});

describe("--bus-retention / HERALD_BUS_RETENTION", () => {
  it("defaults to 100,000 and must hold at least the history on the Redis bus", () => {
    assert.equal(loadConfig({}, {}).busRetention, 100_000);
    assert.throws(
      () => loadConfig({ bus: "redis://127.0.0.1:6379", historySize: "200000" }, {}),
      (error: unknown) =>
        error instanceof ConfigError &&
        /HERALD_BUS_RETENTION \/ --bus-retention/.test(error.message) &&
        /--history-size \(200000\)/.test(error.message),
    );
    const raised = loadConfig(
      { bus: "redis://127.0.0.1:6379", historySize: "200000", busRetention: "200000" },
      {},
    );
    assert.equal(raised.busRetention, 200_000);
    // the other buses do not use it
    assert.equal(loadConfig({ historySize: "200000" }, {}).historySize, 200_000);
  });
});

describe("Redis down when Herald starts", { skip: skipReason(REDIS_BIN, "redis-server") }, () => {
  let herald: Herald | undefined;
  let redis: RedisServer | undefined;
  after(async () => {
    await herald?.close();
    await redis?.stop();
  });

  it("starts, answers 503 until Redis is up, then becomes ready and delivers", async () => {
    const port = await freePort();
    herald = await startTestHerald({ bus: `redis://127.0.0.1:${port}` });
    const notReady = await httpRequest(`${herald.url}/readyz`);
    assert.equal(notReady.status, 503);
    assert.match((notReady.body as { reason: string }).reason, /Redis at 127\.0\.0\.1:\d+/);
    const refused = await publish(herald.url, { topic: "t", data: "x" });
    assert.equal(refused.status, 503);
    assert.match((refused.body as { message: string }).message, /unreachable.*retry/);
    assert.ok(Number(refused.headers["retry-after"]) > 0);

    redis = await startRedis({ port });
    const url = herald.url;
    let ready = false;
    await until(() => {
      void httpRequest(`${url}/readyz`).then((r) => {
        ready = r.status === 200;
      });
      return ready;
    }, "ready once Redis is up");
    const stream = new RawStream(`${url}/events?topic=t`);
    await stream.opened();
    const accepted = await publish(url, { topic: "t", data: "hello" });
    assert.equal(accepted.status, 200);
    assert.equal((accepted.body as { queued: number }).queued, 1, "queued counts the local subscriber");
    await stream.until(() => stream.text.includes("data: hello"));
    stream.close();
  });
});
