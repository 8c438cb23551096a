/**
 * `npm run bench [-- --scenario light,saturation --runs 3 --duration 3 --workers 2 --quick]`
 *
 * Starts Herald (`herald`) as a child process, and nginx + nchan as the reference where the
 * scenario compares (bench/versus.ts), holds subscribers from separate load-generator processes
 * (bench/loadgen.ts, spread over 127.0.0.x source addresses), publishes, and prints per scenario
 * and hub the median (min..max) over the runs of: deliveries/s, publish->receive latency p50/p99,
 * lost events, server CPU µs per delivery or per publish (/proc utime+stime of the server and its
 * workers) beside the load generators' own CPU, and RSS per idle connection; then Herald's figures
 * as ratios to nchan's of the same run, and the time the whole bench took. See docs/performance.md.
 */
import { availableParallelism, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { FLOOR_RATIO } from "./light.ts";
import { type Options, type Row, SCENARIOS } from "./scenarios.ts";
import { summary } from "./stats.ts";
import { RATIO } from "./versus.ts";

/** Rows of ratios: to nchan (bench/versus.ts) or to the C floor (bench/light.ts). */
const isRatio = (target: unknown) =>
  String(target ?? "").endsWith(RATIO) || String(target ?? "").endsWith(FLOOR_RATIO);

/** Every scenario; `--quick`: only those measured beside nchan. */
const ALL =
  "light,rate50,saturation,idle,publish,publish-pipelined,publish-batch,scaling,presence,abuse,100k,floor,ceiling";
const QUICK = "saturation,idle,publish,publish-pipelined";

const { values } = parseArgs({
  options: {
    scenario: { type: "string" },
    runs: { type: "string" },
    duration: { type: "string", default: "3" },
    workers: { type: "string", default: String(availableParallelism()) },
    connections: { type: "string", default: "32" },
    size: { type: "string", default: "200" },
    quick: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(
    `npm run bench -- [--scenario ${Object.keys(SCENARIOS).join(",")}] [--runs 3 (100k, abuse: 1)] [--duration 3] [--workers N] [--connections 32] [--size 200] [--quick]`,
  );
  console.log(`  --quick: only ${QUICK} (the figures beside nchan), ~4 minutes instead of ~10`);
  for (const [name, scenario] of Object.entries(SCENARIOS)) console.log(`  ${name}: ${scenario.title}`);
  process.exit(0);
}
const options: Options = {
  runs: Number(values.runs ?? 3),
  duration: Number(values.duration),
  workers: Number(values.workers),
  connections: Number(values.connections),
  size: Number(values.size),
};
const names = (values.scenario ?? (values.quick ? QUICK : ALL)).split(",").map((s) => s.trim());
for (const name of names) {
  if (!(name in SCENARIOS)) {
    console.error(`unknown scenario "${name}"; choose from ${Object.keys(SCENARIOS).join(", ")}`);
    process.exit(2);
  }
}

const started = Date.now();
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
console.log(
  `# Herald benchmark: node ${process.version}, ${availableParallelism()} CPUs, runs=${options.runs}, duration=${options.duration}s, event ~${options.size} B, ${new Date().toISOString()}, load average ${load()}`,
);
/** Ratio rows of every scenario, for the closing summary. */
const ratios: { scenario: string; rows: Row[] }[] = [];
for (const name of names) {
  const scenario = SCENARIOS[name] as (typeof SCENARIOS)[string];
  console.log(`\n## ${name}: ${scenario.title}`);
  const at = Date.now();
  try {
    const runs = values.runs === undefined ? (scenario.runs ?? options.runs) : options.runs;
    const rows = await scenario.run({ ...options, runs });
    print(rows);
    const own = rows.filter((r) => isRatio(r.target));
    if (own.length > 0) ratios.push({ scenario: name, rows: own });
  } catch (error) {
    console.log(`FAILED: ${(error as Error).message}`);
  }
  console.log(`  (${((Date.now() - at) / 1000).toFixed(0)} s, load average ${load()})`);
}
if (ratios.length > 0) {
  console.log(
    `\n## Herald / nchan (or / floor), each run against the reference's run beside it: median (min..max)`,
  );
  for (const { scenario, rows } of ratios) {
    const targets = [...new Set(rows.map((r) => r.target as string))];
    const columns = Object.keys(rows[0] as Row).filter((c) => c !== "target" && c !== "run");
    for (const column of columns) {
      const cells = targets.map((t) => {
        const values = rows.filter((r) => r.target === t).map((r) => r[column] as number);
        return `${t.endsWith(RATIO) ? t.slice(0, -RATIO.length) : t} ${summary(values, 2)}x`;
      });
      console.log(`- ${scenario}, ${column}: ${cells.join("; ")}`);
    }
  }
}
console.log(`\nbench took ${((Date.now() - started) / 60_000).toFixed(1)} min (load average ${load()})`);
process.exit(0);

/** Groups rows by their identifying columns (target, subscribers, workers) and prints median (min..max). */
function print(rows: Row[]): void {
  const keyCols = ["target", "subscribers", "workers"];
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const key = keyCols.map((k) => row[k] ?? "").join("/");
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  for (const group of groups.values()) {
    const first = group[0] as Row;
    const id = keyCols
      .filter((k) => k in first)
      .map((k) => (k === "target" ? String(first[k]) : `${k}=${first[k]}`))
      .join(" ");
    if (id !== "") console.log(`- ${id} (${group.length} runs)`);
    else console.log(`- ${group.length} runs`);
    const ratio = isRatio(first.target);
    for (const col of Object.keys(first)) {
      if (keyCols.includes(col) || col === "run") continue;
      const digits =
        ratio || col.includes("µs") ? 2 : Number.isInteger(first[col]) && !col.includes("ms") ? 0 : 1;
      console.log(
        `    ${col}: ${summary(
          group.map((r) => r[col] as number),
          digits,
        )}${ratio ? "x" : ""}`,
      );
    }
  }
}
