import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type HeraldProcess, spawnWorkers, stopHerald, workerPid } from "../helpers/process.ts";
import { until } from "../helpers/waiters.ts";

/**
 * docs/configuration.md: `--port` "TCP port to listen on (0 = any free port)"; `--workers`
 * "processes sharing the port"; docs/production.md: "a worker that dies after it listened: it is
 * replaced (same worker index); its streams reconnect through the other workers". Found in an
 * attack round (2026-12-03): with `--port 0 --workers 2`, when both workers die at once (SIGKILL,
 * the OOM killer), node:cluster's primary drops the shared handle of port 0 with its last worker,
 * and the replacements' `listen(0)` gets a new free port: Herald now listens elsewhere than the
 * URL it announced ("all workers listening"), and every client (publishers, EventSource
 * reconnecting) gets ECONNREFUSED for good. Likely cause: packages/herald/src/cluster/primary.ts
 * (the workers listen on the configured port 0 again; the primary would have to hand the
 * replacements the port it first got).
 */
describe("attack: --port 0 --workers 2 after both workers are SIGKILLed", () => {
  let herald: HeraldProcess;
  before(async () => {
    herald = await spawnWorkers(2);
  });
  after(async () => {
    await stopHerald(herald);
  });

  it("the replacements listen on the URL the primary announced", async () => {
    assert.equal((await fetch(`${herald.url}/healthz`)).status, 200);
    const pids = [0, 1].map((index) => workerPid(herald, index) as number);
    for (const pid of pids) process.kill(pid, "SIGKILL");
    for (const [index, pid] of pids.entries()) {
      await until(() => ![undefined, pid].includes(workerPid(herald, index)), `worker ${index} replaced`);
    }
    let answer: number | string;
    try {
      answer = (await fetch(`${herald.url}/healthz`)).status;
    } catch (error) {
      answer = String((error as { cause?: { code?: string } }).cause?.code ?? error);
    }
    const listening = [...herald.output().matchAll(/"url":"(http:[^"]+)".*"msg":"Herald listening"/g)]
      .map((m) => m[1])
      .slice(-2);
    assert.equal(
      answer,
      200,
      `Herald announced ${herald.url}; after the restart its workers listen on ${listening.join(", ")}`,
    );
  });
});
