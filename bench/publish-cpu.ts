/**
 * Server CPU per publish of one Herald process, for two builds side by side: the `publish`
 * scenario's load (bench/publisher.ts: the C publisher, 32 keep-alive connections, one POST in
 * flight on each, one subscriber), the builds measured one after the other in each run, so a change
 * in the machine's load hits both. CPU per publish is the figure to compare on a shared machine
 * (publishes/s moves with the other jobs on the cores much more).
 *
 *   npm run build && node --import tsx bench/publish-cpu.ts [--base <other build's bin/herald.js>] [--runs 5] [--seconds 3]
 *
 * Without --base, only this checkout's build is measured.
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { LoadPool, startServer } from "./harness.ts";
import { measured, nextSeq, PATH, TOPIC, waitFor } from "./load.ts";
import { publishLoad } from "./publisher.ts";

const { values } = parseArgs({
  options: {
    base: { type: "string" },
    runs: { type: "string", default: "5" },
    seconds: { type: "string", default: "3" },
    connections: { type: "string", default: "32" },
  },
});
const builds: { name: string; bin: string | undefined }[] = [];
if (values.base !== undefined) builds.push({ name: "base", bin: values.base });
builds.push({ name: "this", bin: undefined });

const figures = new Map<string, { us: number[]; sysUs: number[]; rate: number[] }>();
for (let run = 0; run < Number(values.runs); run++) {
  for (const build of builds) {
    if (build.bin === undefined) delete process.env.HERALD_BENCH_BIN;
    else process.env.HERALD_BENCH_BIN = build.bin;
    const server = await startServer(["--workers", "1"]);
    const pool = await LoadPool.open(server, 1, PATH);
    try {
      const load = (seconds: number) =>
        publishLoad(server, TOPIC, {
          connections: Number(values.connections),
          depth: 1,
          durationMs: seconds * 1000,
          size: 200,
          first: nextSeq(10_000_000),
        });
      const warm = await load(1); // compiled and optimized before the measured window
      await pool.progress(true);
      await waitFor(pool, warm.ok, 3000);
      await pool.progress(false);
      await pool.reset();
      const m = await measured(server, pool, () => load(Number(values.seconds)));
      await pool.progress(true);
      await waitFor(pool, m.value.ok, 3000);
      await pool.progress(false);
      const report = await pool.report(m.value.ok);
      const ok = Math.max(1, m.value.ok);
      const f = figures.get(build.name) ?? { us: [], sysUs: [], rate: [] };
      figures.set(build.name, f);
      f.us.push((m.serverCpuMs * 1000) / ok);
      f.sysUs.push((m.serverSysMs * 1000) / ok);
      f.rate.push(m.value.ok / (m.value.elapsedMs / 1000));
      console.log(
        `run ${run} ${build.name}: ${f.us.at(-1)?.toFixed(2)} µs/publish (kernel ${f.sysUs.at(-1)?.toFixed(2)}), ` +
          `${f.rate.at(-1)?.toFixed(0)}/s, ${m.value.failed} failed, ${report.lost} lost, load ${loadavg()[0]?.toFixed(1)}`,
      );
    } finally {
      await pool.close();
      await server.stop();
    }
  }
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};
for (const [name, f] of figures) {
  console.log(
    `${name}: median ${median(f.us).toFixed(2)} µs/publish (min ${Math.min(...f.us).toFixed(2)}, max ${Math.max(...f.us).toFixed(2)}), ` +
      `kernel ${median(f.sysUs).toFixed(2)}, ${median(f.rate).toFixed(0)}/s`,
  );
}
process.exit(0);
