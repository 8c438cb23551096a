/**
 * Where a publish's µs go: Herald under `node --cpu-prof`, one subscriber, the `publish`
 * scenario's load (a pool of keep-alive connections, one POST in flight on each) for a few
 * seconds; then the profiles (one per process: the primary and each worker) are read and the
 * samples summed by function (self time) and by area (node:http, streams, sockets, JSON, GC,
 * Herald's own files, the idle loop), per publish.
 *
 *   node --import tsx bench/profile-publish.ts [--workers 1] [--seconds 5] [--connections 32] [--top 40]
 *
 * Needs the compiled server (`npm run build`). The profile files are left in a temp dir (printed)
 * for chrome://inspect or `speedscope`.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { eventData, HOST, LoadPool, startServer } from "./harness.ts";
import { runKeepAlivePool } from "./keepalive.ts";
import { PATH, TOPIC, waitFor } from "./load.ts";

const { values } = parseArgs({
  options: {
    workers: { type: "string", default: "1" },
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "32" },
    top: { type: "string", default: "40" },
  },
});
const dir = mkdtempSync(join(tmpdir(), "herald-publish-profile-"));
const server = await startServer(
  ["--workers", values.workers],
  ["--cpu-prof", "--cpu-prof-dir", dir, "--cpu-prof-interval", "100"],
);
const pool = await LoadPool.open(server, 1, PATH);
const load = (seconds: number, first: number) =>
  runKeepAlivePool({
    host: HOST,
    port: server.port,
    path: "/publish",
    contentType: "application/json",
    connections: Number(values.connections),
    durationMs: seconds * 1000,
    body: (i) => server.publishRequest(TOPIC, eventData(first + i, 200)).body,
  });
// warm-up (the code compiled and optimized), not counted; then the measured window
const warm = await load(1, 1);
await pool.reset();
const cpuBefore = server.cpuMs();
/** V8's profile timestamps are CLOCK_MONOTONIC µs, as process.hrtime here: the window's samples only. */
const windowStart = Number(process.hrtime.bigint() / 1000n);
const result = await load(Number(values.seconds), warm.sent + 1);
const windowEnd = Number(process.hrtime.bigint() / 1000n);
const cpuMs = server.cpuMs() - cpuBefore;
await pool.progress(true);
await waitFor(pool, result.ok, 3000);
await pool.progress(false);
const report = await pool.report(result.ok);
await pool.close();
await server.stop();

console.log(
  `${result.ok} publishes in ${(result.elapsedMs / 1000).toFixed(1)} s: ${((result.ok * 1000) / result.elapsedMs).toFixed(0)}/s, ` +
    `${result.failed} failed, ${report.lost} lost; server CPU ${((cpuMs * 1000) / result.ok).toFixed(1)} µs per publish; load average ${loadavg()[0]?.toFixed(1)}; profiles in ${dir}`,
);

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  startTime: number;
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

/** The area a frame belongs to, for the summary by area. */
function area(frame: Node["callFrame"]): string {
  const { functionName: name, url } = frame;
  if (url === "") {
    if (name === "(garbage collector)") return "GC";
    if (name === "(idle)") return "idle (waiting for I/O)";
    if (name === "(program)") return "(program: native, not attributed)";
    if (name.startsWith("JSON")) return "JSON";
    return `native ${name}`;
  }
  if (url.includes("/herald/dist/")) return `herald ${url.slice(url.indexOf("/dist/") + 6)}`;
  if (url.includes("node_modules/")) return `npm ${url.split("node_modules/")[1]?.split("/")[0]}`;
  if (url.startsWith("node:")) {
    const file = url.slice(5);
    if (file.startsWith("_http") || file === "http") return "node:http";
    if (file.startsWith("internal/streams") || file === "stream") return "node:streams";
    if (file === "net" || file.includes("stream_base") || file.includes("tcp")) return "node:net";
    if (file.startsWith("internal/cluster") || file.includes("child_process")) return "node:cluster IPC";
    return `node:${file.split("/").slice(0, 2).join("/")}`;
  }
  return url;
}

let files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
files = files.sort();
for (const file of files) {
  const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let total = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (at < windowStart || at > windowEnd) continue;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  }
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = (byId.get(id) as Node).callFrame;
    const key = `${frame.functionName || "(anonymous)"} ${frame.url.replace(/^.*\/(dist|node_modules)\//, "")}:${frame.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const a = area(frame);
    byArea.set(a, (byArea.get(a) ?? 0) + us);
  }
  const busy = total - (byArea.get("idle (waiting for I/O)") ?? 0);
  const per = (us: number) => (us / Math.max(1, result.ok)).toFixed(2);
  console.log(
    `\n## ${file}: ${(total / 1e6).toFixed(1)} s sampled (the measured window), ${(busy / 1e6).toFixed(1)} s busy = ${per(busy)} µs per publish (JavaScript and what it calls; kernel time of system calls shows under the caller)`,
  );
  console.log("by area (µs per publish, % of busy):");
  for (const [a, us] of [...byArea].sort((x, y) => y[1] - x[1]).slice(0, 25))
    console.log(`  ${per(us).padStart(7)}  ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${a}`);
  console.log(`top ${values.top} functions by self time:`);
  for (const [f, us] of [...byFunction].sort((x, y) => y[1] - x[1]).slice(0, Number(values.top)))
    console.log(`  ${per(us).padStart(7)}  ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${f}`);
}
process.exit(0);
