/**
 * `npm run bench [-- --scenario light,saturation --runs 3 --duration 3 --workers 2]`
 *
 * Starts Herald (`herald`) as a child process, holds subscribers from separate
 * load-generator processes (bench/loadgen.ts, spread over 127.0.0.x source addresses), publishes,
 * and prints per scenario the median (min..max) over the runs of: deliveries/s, publish->receive
 * latency p50/p99, lost events, server CPU µs per delivery (/proc utime+stime of the server and its
 * workers) beside the load generators' own CPU, and RSS per idle connection. See docs/performance.md.
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { type Options, type Row, SCENARIOS } from "./scenarios.ts";
import { summary } from "./stats.ts";

const { values } = parseArgs({
  options: {
    scenario: {
      type: "string",
      default: "light,rate50,saturation,idle,publish,publish-batch,scaling,abuse,100k,floor",
    },
    runs: { type: "string" },
    duration: { type: "string", default: "3" },
    workers: { type: "string", default: String(availableParallelism()) },
    size: { type: "string", default: "200" },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(
    `npm run bench -- [--scenario ${Object.keys(SCENARIOS).join(",")}] [--runs 3 (100k: 1)] [--duration 3] [--workers N] [--size 200]`,
  );
  for (const [name, scenario] of Object.entries(SCENARIOS)) console.log(`  ${name}: ${scenario.title}`);
  process.exit(0);
}
const options: Options = {
  runs: Number(values.runs ?? 3),
  duration: Number(values.duration),
  workers: Number(values.workers),
  size: Number(values.size),
};
const names = values.scenario.split(",").map((s) => s.trim());
for (const name of names) {
  if (!(name in SCENARIOS)) {
    console.error(`unknown scenario "${name}"; choose from ${Object.keys(SCENARIOS).join(", ")}`);
    process.exit(2);
  }
}

console.log(
  `# Herald benchmark: node ${process.version}, ${availableParallelism()} CPUs, runs=${options.runs}, duration=${options.duration}s, event ~${options.size} B`,
);
for (const name of names) {
  const scenario = SCENARIOS[name] as (typeof SCENARIOS)[string];
  console.log(`\n## ${name}: ${scenario.title}`);
  try {
    const runs = values.runs === undefined ? (scenario.runs ?? options.runs) : options.runs;
    const rows = await scenario.run({ ...options, runs });
    print(rows);
  } catch (error) {
    console.log(`FAILED: ${(error as Error).message}`);
  }
}
process.exit(0);

/** Groups rows by their identifying columns (subscribers, workers) and prints median (min..max). */
function print(rows: Row[]): void {
  const keyCols = ["subscribers", "workers"];
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const key = keyCols.map((k) => row[k] ?? "").join("/");
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  for (const group of groups.values()) {
    const first = group[0] as Row;
    const id = keyCols
      .filter((k) => k in first)
      .map((k) => `${k}=${first[k]}`)
      .join(" ");
    if (id !== "") console.log(`- ${id} (${group.length} runs)`);
    else console.log(`- ${group.length} runs`);
    for (const col of Object.keys(first)) {
      if (keyCols.includes(col)) continue;
      const digits = col.includes("µs") ? 2 : Number.isInteger(first[col]) && !col.includes("ms") ? 0 : 1;
      console.log(
        `    ${col}: ${summary(
          group.map((r) => r[col] as number),
          digits,
        )}`,
      );
    }
  }
}
