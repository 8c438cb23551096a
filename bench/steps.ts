// How long the hub's fan-out steps take (docs/performance.md, "Fan-out in steps"): Herald runs in
// this process with its hub's `step` timed (wall and CPU time of this process); N raw-socket
// subscribers with 32 prefixes each, in a load-generator process, all match one batch of 100 events.
// Usage: node --import tsx bench/steps.ts [subscribers=9000]
// CPU time is what a step costs; wall time adds what the machine's other processes took meanwhile.
import { loadavg } from "node:os";
import { defaultsWith } from "../packages/herald/src/config/settings.ts";
import { startHerald } from "../packages/herald/src/herald.ts";
import { createLogger } from "../packages/herald/src/ops/logger.ts";
import { eventData, LoadPool, type ServerHandle, sleep } from "./harness.ts";

const subscribers = Number(process.argv[2] ?? 9000);
const EVENTS = 100;
const herald = await startHerald(
  defaultsWith({
    port: 0,
    host: "127.0.0.1",
    logLevel: "silent",
    workers: 1,
    allowAnonymousPublish: true,
    jwtSecret: "herald-bench-secret-not-for-production",
    publishRate: 1_000_000,
    publishBurst: 1_000_000,
    maxConnections: 1_000_000,
    maxConnectionsPerIp: 1_000_000,
  }),
  { log: createLogger("silent") },
);
const steps: { wall: number; cpu: number }[] = [];
const hub = herald.hub as unknown as { step: () => boolean }; // Hub.step is private: timed from outside
const step = hub.step.bind(hub);
hub.step = () => {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const more = step();
  const used = process.cpuUsage(cpu);
  steps.push({ wall: performance.now() - started, cpu: (used.user + used.system) / 1000 });
  return more;
};
const server = { port: Number(new URL(herald.url).port), opened: ": ok" } as ServerHandle;
const path = `/events?${Array.from({ length: 32 }, (_, k) => `topic=p${k}/${k}/*`).join("&")}`;
const pool = await LoadPool.open(server, subscribers, path);
await pool.reset();
await pool.progress(true);
steps.length = 0;
const events = Array.from({ length: EVENTS }, (_, i) => ({
  topic: `p0/0/${i}`,
  data: eventData(i + 1, 200),
}));
const started = performance.now();
const answer = await fetch(`${herald.url}/publish/batch`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ events }),
});
const answeredMs = performance.now() - started;
while (pool.received < EVENTS * subscribers && performance.now() - started < 120_000) await sleep(20);
const sorted = (key: "wall" | "cpu") => steps.map((s) => s[key]).sort((a, b) => a - b);
const at = (values: number[], p: number) =>
  (values[Math.min(values.length - 1, Math.floor(values.length * p))] ?? 0).toFixed(1);
const cpu = sorted("cpu");
const wall = sorted("wall");
console.log(
  `${subscribers} subscribers x ${EVENTS} events (status ${answer.status}, answered in ${answeredMs.toFixed(0)} ms, ${pool.received} delivered): ${steps.length} steps; ` +
    `CPU per step p50 ${at(cpu, 0.5)} ms, p99 ${at(cpu, 0.99)} ms, max ${at(cpu, 1)} ms; wall p50 ${at(wall, 0.5)} ms, max ${at(wall, 1)} ms; load average ${loadavg()[0]?.toFixed(1)}`,
);
await pool.close();
await herald.close();
process.exit(0);
