import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RABBIT_BIN, REDIS_BIN, skipReason } from "../helpers/brokers.ts";
import { REDIS_CLI } from "../helpers/redis-ha.ts";
import { formatResult, runFaults } from "./run.ts";
import { REPLICATED, type Target } from "./schedule.ts";

/** One seeded run of the fault suite: a fixed seed, or a failing seed kept as a regression test. */
export interface SeededRun {
  readonly seed: number;
  readonly steps: number;
  /** "long" for a seed found by `npm run chaos` (its default scale); "short" by default. */
  readonly scale?: "short" | "long";
  /** Why this seed is here (e.g. the issue or commit it guards). */
  readonly why?: string;
  /** Replicated Redis targets: the bus URL's `wait=` (default auto: 1). */
  readonly redisWait?: number;
}

/**
 * Registers one test per run on `target`: the run's checker must find no violation (the message
 * is the checker's full report: counts, violations by step, per subscriber, examples). On a
 * replicated Redis, with wait >= 1 no stream may be told of a gap at all (nothing acknowledged is
 * lost); with wait=0 every stream is told at the failover (docs/buses.md).
 */
export function faultSuite(target: Target, runs: readonly SeededRun[]): void {
  const skip =
    target === "redis"
      ? skipReason(REDIS_BIN, "redis-server")
      : target === "rabbitmq"
        ? skipReason(RABBIT_BIN, "rabbitmq-server")
        : target === "redis-cluster"
          ? skipReason(REDIS_BIN, "redis-server") || skipReason(REDIS_CLI, "redis-tools")
          : target === "redis-sentinel"
            ? skipReason(REDIS_BIN, "redis-server")
            : false;
  describe(`fault schedule on ${target}: every acknowledged event once, in log order, or herald.missed`, {
    skip,
  }, () => {
    for (const run of runs) {
      const wait = run.redisWait === undefined ? "" : `, wait=${run.redisWait}`;
      const title = `seed ${run.seed}, ${run.steps} steps${wait}${run.why ? ` (${run.why})` : ""}`;
      it(title, async (t) => {
        // bounded for npm test's 120 s per file on a loaded machine: no new step after 45 s
        // HERALD_FAULT_LOG=1 prints the run's progress (to see where the time went)
        const log = process.env.HERALD_FAULT_LOG
          ? (line: string) => console.error(`${target}: ${line}`)
          : undefined;
        // a replicated target takes its few steps whatever its (longer) start took
        const durationMs = REPLICATED.includes(target) ? undefined : 45_000;
        const result = await runFaults({ target, ...run, durationMs, settleMs: 25_000, log });
        log?.(formatResult(result));
        assert.equal(result.report.violations.total, 0, formatResult(result));
        assert.ok(result.report.acknowledged > 1000, `too little was published: ${formatResult(result)}`);
        if (REPLICATED.includes(target) && result.kinds.includes("kill-primary")) {
          const told = result.report.missedSignals + result.server.missedSignals;
          if (run.redisWait === 0)
            assert.ok(told > 0, `no stream was told of the failover: ${formatResult(result)}`);
          else assert.equal(told, 0, `a stream was told of a gap with wait >= 1: ${formatResult(result)}`);
        }
        if (result.steps.length < run.steps)
          t.diagnostic(
            `only ${result.steps.length} of ${run.steps} steps ran within 45 s (a loaded machine)`,
          );
      });
    }
  });
}
