// The fault suite, longer: a seeded schedule of faults against real Herald processes and brokers,
// then the checker's verdict (test/fault/README.md).
// Usage: npm run chaos -- [--seed N] [--minutes M | --steps N]
//   [--bus memory|workers|redis|rabbitmq|redis-sentinel|redis-cluster] [--redis-wait N] [--short]
// Without --bus it runs every bus in turn, each for the given time. Exits 1 on any violation, or,
// on redis-sentinel / redis-cluster with --redis-wait >= 1 (the default auto is 1), when a stream
// was told of a gap after the primary was killed (nothing acknowledged may be lost there).
import { parseArgs } from "node:util";
import { formatResult, runFaults } from "../test/fault/run.ts";
import { REPLICATED, TARGETS, type Target } from "../test/fault/schedule.ts";

const USAGE = `usage: npm run chaos -- [--seed N] [--minutes M | --steps N] [--bus ${TARGETS.join("|")}] [--redis-wait N] [--short]`;

function fail(message: string): never {
  console.error(`chaos: ${message}\n${USAGE}`);
  process.exit(2);
}

let values: {
  seed?: string;
  minutes?: string;
  steps?: string;
  bus?: string;
  "redis-wait"?: string;
  short?: boolean;
};
try {
  ({ values } = parseArgs({
    options: {
      seed: { type: "string" },
      minutes: { type: "string" },
      steps: { type: "string" },
      bus: { type: "string" },
      "redis-wait": { type: "string" },
      short: { type: "boolean", default: false },
    },
  }));
} catch (error) {
  fail((error as Error).message);
}

const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
if (!Number.isInteger(seed) || seed < 0) fail(`--seed must be a whole number >= 0, got ${values.seed}`);
const minutes = values.minutes === undefined ? 1 : Number(values.minutes);
if (values.minutes !== undefined && values.steps !== undefined) fail("give --minutes or --steps, not both");
if (!(minutes > 0)) fail(`--minutes must be a number > 0, got ${values.minutes}`);
const steps = values.steps === undefined ? undefined : Number(values.steps);
if (steps !== undefined && !(Number.isInteger(steps) && steps > 0))
  fail(`--steps must be a whole number > 0, got ${values.steps}`);
if (values.bus !== undefined && !TARGETS.includes(values.bus as Target))
  fail(`--bus must be one of ${TARGETS.join(", ")}, got ${values.bus}`);
const targets = values.bus === undefined ? TARGETS : [values.bus as Target];
const redisWait = values["redis-wait"] === undefined ? undefined : Number(values["redis-wait"]);
if (redisWait !== undefined && !(Number.isInteger(redisWait) && redisWait >= 0 && redisWait <= 2))
  fail(`--redis-wait must be 0, 1 or 2 (the replicas of the test's primary), got ${values["redis-wait"]}`);

console.log(`chaos: seed ${seed}`);
// Ctrl-C ends the run cleanly: no further step, every process it started is stopped
const abort = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    console.log(`chaos: ${signal}: stopping after this step`);
    abort.abort();
  });
let violations = 0;
for (const target of targets) {
  console.log(`\n== ${target} (seed ${seed}) ==`);
  const result = await runFaults({
    target,
    seed,
    ...(steps === undefined ? { durationMs: minutes * 60_000 } : { steps }),
    scale: values.short ? "short" : "long",
    log: (line) => console.log(line),
    signal: abort.signal,
    ...(redisWait === undefined ? {} : { redisWait }),
  });
  console.log(formatResult(result));
  const scale = values.short ? " --short" : "";
  const replicated = REPLICATED.includes(target);
  const wait = replicated && redisWait !== undefined ? ` --redis-wait ${redisWait}` : "";
  console.log(
    `reproduce: npm run chaos -- --bus ${target} --seed ${seed} --steps ${result.steps.length}${wait}${scale}`,
  );
  violations += result.report.violations.total;
  // with wait >= 1 a failover loses nothing acknowledged: no stream may be told of a gap (a client
  // resuming from further back than a node's history is told `too-old`: not a loss of the bus)
  const gaps = result.missedReasons.gap ?? 0;
  if (replicated && redisWait !== 0 && result.kinds.includes("kill-primary") && gaps > 0) {
    console.log(`chaos: ${target}: ${gaps} herald.missed (gap) with wait >= 1 (expected none)`);
    violations += gaps;
  }
  if (abort.signal.aborted) break;
}
console.log(`\nchaos: seed ${seed}: ${violations === 0 ? "no violation" : `${violations} violations`}`);
process.exit(violations === 0 ? 0 : 1);
