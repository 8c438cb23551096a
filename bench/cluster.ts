/**
 * Two Herald nodes on one bus: cross-node publish -> receive latency and deliveries/s.
 *
 *   node --import tsx bench/cluster.ts --bus redis|rabbitmq|memory [--subscribers 10000] [--events 100] [--rate 20]
 *
 * Starts its own broker (Debian redis-server / rabbitmq-server, temporary data), two `herald`
 * processes on it (one for `memory`), opens the subscribers split evenly over the nodes (raw SSE
 * over node:http), publishes `--events` events to node A at `--rate`/s, and reports latency
 * percentiles separately for subscribers on node A (same node) and node B (cross-node), plus
 * deliveries per second over the whole run. Latency is wall clock from just before the POST to the
 * moment the subscriber's socket read the event (one machine, one clock).
 */
import { Agent, request } from "node:http";
import { parseArgs } from "node:util";
import { startRabbit, startRedis } from "../test/helpers/brokers.ts";
import { type HeraldNode, startNode } from "../test/helpers/cluster.ts";

const { values } = parseArgs({
  options: {
    bus: { type: "string", default: "redis" },
    subscribers: { type: "string", default: "10000" },
    events: { type: "string", default: "100" },
    rate: { type: "string", default: "20" },
  },
});
const subscribers = Number(values.subscribers);
const events = Number(values.events);
const rate = Number(values.rate);
const now = () => performance.timeOrigin + performance.now();

const broker =
  values.bus === "redis"
    ? await startRedis()
    : values.bus === "rabbitmq"
      ? await startRabbit()
      : { url: "memory", stop: async () => {} };
const nodeCount = values.bus === "memory" ? 1 : 2;
const nodes: HeraldNode[] = [];
for (let i = 0; i < nodeCount; i++) nodes.push(await startNode(broker.url, ["--history-size", "1000"]));

const latencies: number[][] = nodes.map(() => []);
let deliveries = 0;
let lastDelivery = 0;
const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });

function subscribe(nodeIndex: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${nodes[nodeIndex]!.url}/events?topic=bench`,
      { agent, headers: { accept: "text/event-stream" } },
      (res) => {
        let rest = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          const t = now();
          const text = rest + chunk;
          const end = text.lastIndexOf("\n");
          rest = text.slice(end + 1);
          for (const match of text.slice(0, end).matchAll(/^data: (\d+(?:\.\d+)?)$/gm)) {
            latencies[nodeIndex]!.push(t - Number(match[1]));
            deliveries++;
            lastDelivery = t;
          }
        });
        resolve();
      },
    );
    req.on("error", reject);
    req.end();
  });
}

const openStart = now();
for (let i = 0; i < subscribers; i += 200) {
  const batch: Promise<void>[] = [];
  for (let j = i; j < Math.min(subscribers, i + 200); j++) batch.push(subscribe(j % nodeCount));
  await Promise.all(batch);
}
const openMs = now() - openStart;

const publishAgent = new Agent({ keepAlive: true });
function publishOne(): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ topic: "bench", data: String(now()) });
    const req = request(
      `${nodes[0]!.url}/publish`,
      { method: "POST", agent: publishAgent, headers: { "content-type": "application/json" } },
      (res) => {
        res.resume();
        res.on("end", () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`publish ${res.statusCode}`)),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const start = now();
for (let i = 0; i < events; i++) {
  const due = start + (i * 1000) / rate;
  const wait = due - now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  await publishOne();
}
const expected = events * subscribers;
const deadline = now() + 60_000;
while (deliveries < expected && now() < deadline) await new Promise((r) => setTimeout(r, 50));

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const round = (x: number) => Math.round(x * 10) / 10;
const result = {
  bus: values.bus,
  nodes: nodeCount,
  subscribers,
  events,
  rate,
  openSeconds: round(openMs / 1000),
  deliveries,
  expected,
  deliveriesPerSecond: Math.round(deliveries / ((lastDelivery - start) / 1000)),
  sameNodeP50ms: round(pct(latencies[0]!, 50)),
  sameNodeP99ms: round(pct(latencies[0]!, 99)),
  crossNodeP50ms: nodeCount > 1 ? round(pct(latencies[1]!, 50)) : null,
  crossNodeP99ms: nodeCount > 1 ? round(pct(latencies[1]!, 99)) : null,
};
console.log(JSON.stringify(result));

agent.destroy();
publishAgent.destroy();
for (const node of nodes) await node.kill("SIGTERM");
await broker.stop();
process.exit(0);
