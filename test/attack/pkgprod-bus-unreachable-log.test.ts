// Attack (issue 13, "Logs": "logs a collector can read", "including ... warnings"): when the bus's
// broker cannot be reached, Herald says so only to whoever polls GET /readyz (503, "Redis at ... is
// unreachable"). Its log, which is what an operator's collector reads, stays silent: no warning at
// start when Redis is down (a Redis lost later is logged: "lost Redis; retrying with backoff", the
// second test, which passes). Publishes fail (503) and streams get nothing, with not one log line
// telling why.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { freePort, type RedisServer, startRedis } from "../helpers/brokers.ts";
import { logLines } from "../helpers/logs.ts";
import { type HeraldProcess, spawnHerald, stopHerald } from "../helpers/process.ts";
import { eventually, until } from "../helpers/waiters.ts";

/** A warn (or worse) line of Herald's log that names the bus's broker. */
const busWarnings = (herald: HeraldProcess) => {
  const out = herald.output();
  return logLines(out.slice(0, out.lastIndexOf("\n") + 1)).filter(
    (l) => ["warn", "error", "fatal"].includes(l.level) && /redis|\bbus\b|broker/i.test(l.msg),
  );
};

const readiness = async (herald: HeraldProcess) => {
  const answer = await fetch(`${herald.url}/readyz`);
  return { status: answer.status, body: await answer.text() };
};

describe("attack: an unreachable bus broker is logged, not only shown by /readyz", () => {
  let herald: HeraldProcess | undefined;
  let redis: RedisServer | undefined;
  after(async () => {
    if (herald && herald.child.exitCode === null) await stopHerald(herald);
    await redis?.stop();
  });

  it("Redis down at start: /readyz says unreachable, and a warning line in the log says it too", async () => {
    const port = await freePort(); // nothing listens there
    herald = await spawnHerald(["--bus", `redis://127.0.0.1:${port}/0`]);
    const started = herald;
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
    herald = await spawnHerald(["--bus", `${redis.url}/0`]);
    const started = herald;
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
});
