/**
 * The ceiling of one log (issue 17): the events/s one Redis stream or one RabbitMQ stream carries
 * into 2 Herald nodes before latency climbs. Fan-out is kept out of it: one subscriber per node.
 *
 *   node --import tsx bench/log-ceiling.ts [--bus redis,rabbitmq] [--step-seconds 3] [--batch 50]
 *   (also `npm run bench -- --scenario ceiling`)
 *
 * Starts its own broker (Debian redis-server / rabbitmq-server, temporary data) and two `herald`
 * processes on it (--workers 1 each). The load: `POST /publish/batch` of `--batch` events, to
 * the two nodes in turn, at most 8 requests in flight, paced to a target rate that climbs a ladder
 * (1,000 .. 128,000 events/s, `--step-seconds` each). Each event's data is the wall-clock time of
 * its POST; each subscriber records the time it read it (one machine, one clock). A step's figures:
 * the rate the publishes were answered at, the share of events each subscriber got, and the
 * latency p50/p99 over both subscribers. The ceiling is the highest step whose publishes kept up
 * (>= 95 % of the target), every event was delivered, and p99 stayed under 100 ms. The ladder stops
 * after two steps in a row past it (the first step may be a warm-up).
 */
import { Agent, request } from "node:http";
import { parseArgs } from "node:util";
import { startRabbit, startRedis } from "../test/helpers/brokers.ts";
import { type HeraldNode, startNode } from "../test/helpers/cluster.ts";

const LADDER = [1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000];
const IN_FLIGHT = 8;
const P99_LIMIT_MS = 100;

export interface CeilingStep {
  bus: string;
  targetPerSecond: number;
  answeredPerSecond: number;
  deliveredShare: number;
  p50ms: number;
  p99ms: number;
  failed: number;
}

const now = () => performance.timeOrigin + performance.now();

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** A raw SSE subscriber that records, per step tag, each event's latency. */
class Recorder {
  readonly latencies: number[] = [];
  received = 0;
  private req: ReturnType<typeof request> | undefined;

  open(url: string, agent: Agent): Promise<void> {
    return new Promise((resolve, reject) => {
      this.req = request(
        `${url}/events?topic=ceiling`,
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
              this.latencies.push(t - Number(match[1]));
              this.received++;
            }
          });
          resolve();
        },
      );
      this.req.on("error", reject);
      this.req.end();
    });
  }

  reset(): void {
    this.latencies.length = 0;
    this.received = 0;
  }

  close(): void {
    this.req?.destroy();
  }
}

function publishBatch(agent: Agent, url: string, size: number): Promise<boolean> {
  const t = String(now());
  const body = JSON.stringify({
    events: Array.from({ length: size }, () => ({ topic: "ceiling", data: t })),
  });
  return new Promise((resolve) => {
    const req = request(
      `${url}/publish/batch`,
      { method: "POST", agent, headers: { "content-type": "application/json" } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode === 200));
      },
    );
    req.on("error", () => resolve(false));
    req.end(body);
  });
}

async function step(
  bus: string,
  nodes: HeraldNode[],
  recorders: Recorder[],
  agent: Agent,
  target: number,
  seconds: number,
  batch: number,
): Promise<CeilingStep> {
  for (const r of recorders) r.reset();
  const requests = Math.max(1, Math.round((target * seconds) / batch));
  const start = now();
  let next = 0;
  let ok = 0;
  let failed = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= requests) return;
      const due = start + (i * batch * 1000) / target;
      const wait = due - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (await publishBatch(agent, (nodes[i % nodes.length] as HeraldNode).url, batch)) ok++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const answeredAt = now();
  const expected = ok * batch;
  const deadline = now() + 10_000;
  while (recorders.some((r) => r.received < expected) && now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  const all = recorders.flatMap((r) => r.latencies);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    bus,
    targetPerSecond: target,
    answeredPerSecond: Math.round(expected / ((answeredAt - start) / 1000)),
    deliveredShare:
      round((100 * Math.min(...recorders.map((r) => r.received))) / Math.max(1, expected)) / 100,
    p50ms: round(pct(all, 50)),
    p99ms: round(pct(all, 99)),
    failed,
  };
}

/** Whether a step is under the ceiling: publishes kept up, all delivered, p99 under the limit. */
export function keptUp(s: CeilingStep): boolean {
  return (
    s.failed === 0 &&
    s.answeredPerSecond >= 0.95 * s.targetPerSecond &&
    s.deliveredShare >= 1 &&
    s.p99ms < P99_LIMIT_MS
  );
}

/** Runs the ladder on one bus; returns every step measured. */
export async function measureCeiling(
  bus: "redis" | "rabbitmq",
  seconds = 3,
  batch = 50,
): Promise<CeilingStep[]> {
  const broker = bus === "redis" ? await startRedis() : await startRabbit();
  const nodes: HeraldNode[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const recorders = [new Recorder(), new Recorder()];
  try {
    for (let i = 0; i < 2; i++)
      nodes.push(await startNode(broker.url, ["--history-size", "1000", "--workers", "1"]));
    for (const [i, r] of recorders.entries()) await r.open((nodes[i] as HeraldNode).url, agent);
    const steps: CeilingStep[] = [];
    for (const target of LADDER) {
      const s = await step(bus, nodes, recorders, agent, target, seconds, batch);
      steps.push(s);
      console.log(JSON.stringify(s));
      if (!keptUp(s) && steps.length > 1 && !keptUp(steps.at(-2) as CeilingStep)) break; // two in a row: past it (one may be a warm-up)
    }
    return steps;
  } finally {
    for (const r of recorders) r.close();
    agent.destroy();
    for (const node of nodes) await node.kill("SIGTERM");
    await broker.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      bus: { type: "string", default: "redis,rabbitmq" },
      "step-seconds": { type: "string", default: "3" },
      batch: { type: "string", default: "50" },
    },
  });
  for (const bus of (values.bus as string).split(",")) {
    const steps = await measureCeiling(
      bus as "redis" | "rabbitmq",
      Number(values["step-seconds"]),
      Number(values.batch),
    );
    const under = steps.filter(keptUp);
    console.log(
      `${bus}: ceiling ${under.at(-1)?.targetPerSecond ?? "< 1000"} events/s (p99 < ${P99_LIMIT_MS} ms, all delivered, publishes kept up)`,
    );
  }
  process.exit(0);
}
