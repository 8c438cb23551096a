// Attack (issue 13, "Logs": "logs a collector can read", "including ... warnings"): when the bus's
// broker cannot be reached, Herald says so only to whoever polls GET /readyz (503, "Redis at ... is
// unreachable"). Its log, which is what an operator's collector reads, stays silent: no warning at
// start when Redis is down (a Redis lost later is logged: "lost Redis; retrying with backoff", the
// second test, which passes). Publishes fail (503) and streams get nothing, with not one log line
// telling why.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import {
  freePort,
  RABBIT_BIN,
  type RabbitServer,
  type RedisServer,
  skipReason,
  startRabbit,
  startRedis,
} from "../helpers/brokers.ts";
import { logLines } from "../helpers/logs.ts";
import { type HeraldProcess, spawnHerald, stopHerald } from "../helpers/process.ts";
import { eventually, until } from "../helpers/waiters.ts";

/** Herald's log lines so far (whole lines only). */
const linesOf = (herald: HeraldProcess) => {
  const out = herald.output();
  return logLines(out.slice(0, out.lastIndexOf("\n") + 1));
};

/** A warn (or worse) line of Herald's log that names the bus's broker. */
const busWarnings = (herald: HeraldProcess, broker = /redis|\bbus\b|broker/i) =>
  linesOf(herald).filter((l) => ["warn", "error", "fatal"].includes(l.level) && broker.test(l.msg));

const readiness = async (herald: HeraldProcess) => {
  const answer = await fetch(`${herald.url}/readyz`);
  return { status: answer.status, body: await answer.text() };
};

describe("attack: an unreachable bus broker is logged, not only shown by /readyz", () => {
  // every Herald started, stopped at the end even when a test failed before stopping its own
  const heralds: HeraldProcess[] = [];
  const spawnBus = async (url: string) => {
    const herald = await spawnHerald(["--bus", url]);
    heralds.push(herald);
    return herald;
  };
  let redis: RedisServer | undefined;
  let rabbit: RabbitServer | undefined;
  after(async () => {
    for (const herald of heralds) if (herald.child.exitCode === null) await stopHerald(herald);
    await redis?.stop();
    await rabbit?.stop();
  });

  it("Redis down at start: /readyz says unreachable, and a warning line in the log says it too", async () => {
    const port = await freePort(); // nothing listens there
    const started = await spawnBus(`redis://127.0.0.1:${port}/0`);
    await eventually(async () => (await readiness(started)).status === 503, "/readyz answers 503");
    assert.match((await readiness(started)).body, /unreachable/);
    await until(
      () => busWarnings(started).length > 0,
      `a warning naming the unreachable Redis in the log:\n${started.output()}`,
      15_000,
    );
    await stopHerald(started);
  });

  it("Redis lost while Herald runs: a warning line in the log says so", async () => {
    redis = await startRedis();
    const started = await spawnBus(`${redis.url}/0`);
    await eventually(async () => (await readiness(started)).status === 200, "/readyz answers 200");
    assert.deepEqual(busWarnings(started), [], "no bus warning while Redis is up");
    await redis.kill();
    await eventually(async () => (await readiness(started)).status === 503, "/readyz answers 503", 15_000);
    await until(
      () => busWarnings(started).length > 0,
      `a warning naming the lost Redis in the log:\n${started.output()}`,
      15_000,
    );
    await stopHerald(started);
  });

  it("Redis down at start, then up: one warning for the whole outage (not one per retry), then an info line", async () => {
    const port = await freePort(); // nothing listens there yet
    const started = await spawnBus(`redis://127.0.0.1:${port}/0`);
    await until(() => busWarnings(started).length > 0, `a warning in the log:\n${started.output()}`, 15_000);
    assert.match(
      busWarnings(started)[0]?.msg ?? "",
      new RegExp(`Redis at 127\\.0\\.0\\.1:${port} is unreachable.*keeps trying`),
    );
    redis = await startRedis({ port });
    await eventually(async () => (await readiness(started)).status === 200, "/readyz answers 200", 15_000);
    await until(
      () =>
        linesOf(started).some(
          (l) => l.level === "info" && l.msg === `Redis at 127.0.0.1:${port} is reachable again`,
        ),
      `an info line saying Redis is back:\n${started.output()}`,
    );
    assert.equal(busWarnings(started).length, 1, `one warning for the outage:\n${started.output()}`);
    await stopHerald(started);
    await redis.stop();
    redis = undefined;
  });

  it("RabbitMQ down at start, then up: one warning naming it, then an info line", {
    skip: skipReason(RABBIT_BIN, "rabbitmq-server"),
  }, async () => {
    const port = await freePort(); // nothing listens there yet
    const started = await spawnBus(`amqp://guest:guest@127.0.0.1:${port}`);
    await eventually(async () => (await readiness(started)).status === 503, "/readyz answers 503");
    await until(
      () => busWarnings(started, /rabbitmq/i).length > 0,
      `a warning naming the unreachable RabbitMQ in the log:\n${started.output()}`,
      15_000,
    );
    assert.match(
      busWarnings(started, /rabbitmq/i)[0]?.msg ?? "",
      /RabbitMQ at .* is unreachable.*keeps trying/,
    );
    rabbit = await startRabbit({ port });
    await eventually(async () => (await readiness(started)).status === 200, "/readyz answers 200", 60_000);
    assert.ok(
      linesOf(started).some((l) => l.level === "info" && /^RabbitMQ at .* is reachable again$/.test(l.msg)),
      `an info line saying RabbitMQ is back:\n${started.output()}`,
    );
    assert.equal(
      busWarnings(started, /rabbitmq/i).length,
      1,
      `one warning for the outage:\n${started.output()}`,
    );
    await stopHerald(started);
  });
});
