/**
 * A worker that keeps dying after it listened is restarted with a growing delay (issue 13: not in
 * a tight loop forever): at once the first time, then 500 ms, 1 s, ... while each replacement dies
 * within 10 s of its start (cluster/restart-backoff.ts). Killed from outside with SIGKILL.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { logLines } from "../helpers/logs.ts";
import { type HeraldProcess, spawnWorkers, stopHerald, workerPid } from "../helpers/process.ts";
import { until } from "../helpers/waiters.ts";

describe("a worker that keeps dying after it listened", () => {
  let herald: HeraldProcess | undefined;
  after(async () => {
    if (herald !== undefined) await stopHerald(herald);
  });

  test("is started again at once, then after 500 ms, then 1 s; the others keep serving", async () => {
    herald = await spawnWorkers(2);
    const h = herald;
    for (let kill = 0; kill < 3; kill++) {
      // the primary may log "all workers listening" before worker 1's own line reaches us
      await until(() => workerPid(h, 1) !== undefined, `worker 1 to log that it listens: ${h.output()}`);
      const pid = workerPid(h, 1) as number;
      process.kill(pid, "SIGKILL");
      await until(
        () => {
          const next = workerPid(h, 1);
          return next !== undefined && next !== pid;
        },
        `worker 1 replacement number ${kill + 1}: ${h.output()}`,
      );
    }
    const deaths = logLines(h.output()).filter(
      (l) => typeof l.msg === "string" && l.msg.startsWith("a worker died"),
    );
    assert.deepEqual(
      deaths.map((l) => l.delayMs),
      [0, 500, 1000],
    );
    assert.match(deaths[2]?.msg as string, /starting another in 1000 ms/);
    const health = await fetch(`${h.url}/healthz`);
    assert.equal(health.status, 200);
  });
});
