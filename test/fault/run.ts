import { prng } from "../helpers/prng.ts";
import { heraldToken } from "../helpers/tokens.ts";
import { eventually, until } from "../helpers/waiters.ts";
import { type Broker, startBroker } from "./broker.ts";
import { check, History, type Report } from "./checker.ts";
import { awaitFences } from "./fence.ts";
import { FaultNode, FIGURES, type FigureName } from "./nodes.ts";
import { Publishers, TOPICS } from "./publishers.ts";
import {
  type Burst,
  describeStep,
  type FaultKind,
  REPLICATED,
  type ScheduleShape,
  type Step,
  schedule,
  type Target,
} from "./schedule.ts";
import { EsSubscriber, RawSubscriber, type Subscriber } from "./subscribers.ts";

/**
 * One fault run: a broker (Redis with appendonly + fsync always, or RabbitMQ) when the target needs
 * one, Herald nodes as processes, eight subscribers spread over the nodes, a background publisher,
 * then the seeded schedule's steps; then every fault is undone, a fence event is published on every
 * topic and awaited by every subscriber, and the checker judges the whole history.
 */
export interface RunOptions {
  readonly target: Target;
  readonly seed: number;
  /** Stop after this many steps... */
  readonly steps?: number;
  /** ...or once this much time has passed (at least one step runs). */
  readonly durationMs?: number;
  /** "short" (npm test: small bursts) or "long" (npm run chaos: up to the issue's 10,000-event batches). */
  readonly scale?: "short" | "long";
  /** Progress lines (npm run chaos prints them); silent by default. */
  readonly log?: (line: string) => void;
  /** Ends the run early (no further step; faults are undone and every process stopped). */
  readonly signal?: AbortSignal;
  /** Longest wait, once the faults are over, for every subscriber to get the fence (default 60 s). */
  readonly settleMs?: number;
  /** Replicated Redis targets: the bus URL's `wait=` (replicas a publish waits for; default auto, so 1). */
  readonly redisWait?: number;
}

export interface RunResult {
  readonly target: Target;
  readonly seed: number;
  readonly steps: readonly string[];
  /** The kind of each step run. */
  readonly kinds: readonly FaultKind[];
  readonly report: Report;
  /** Totals of every node's /status at the end (counters restart with a node). */
  readonly server: Readonly<Record<FigureName, number>>;
  readonly publishRequests: { readonly ok: number; readonly failed: number; readonly timedOut: number };
  /** The first few distinct reasons publish requests failed. */
  readonly publishFailures: readonly string[];
  /** The end of each Herald node's log (warnings and errors), to explain a failure. */
  readonly nodeLogs: readonly string[];
  /** How the wait for the fence ended (awaitFences): who lacked it, which node was not ready. */
  readonly fence: readonly string[];
  /** The herald.missed events the subscribers got, by reason (`gap`, `too-old`, ...). */
  readonly missedReasons: Readonly<Record<string, number>>;
  readonly seconds: number;
}

const NODES: Record<Target, { nodes: number; workers: number }> = {
  memory: { nodes: 1, workers: 1 },
  workers: { nodes: 1, workers: 2 },
  redis: { nodes: 2, workers: 1 },
  rabbitmq: { nodes: 2, workers: 1 },
  "redis-sentinel": { nodes: 2, workers: 1 },
  "redis-cluster": { nodes: 2, workers: 1 },
  "rabbitmq-cluster": { nodes: 2, workers: 1 },
};

/**
 * The subscribers: both client kinds, anonymous and with tokens whose `subscribe` claim allows
 * some private topics only, exact and pattern selectors. Raw ones can be slow readers.
 */
const PROFILES: readonly {
  kind: "eventsource" | "raw";
  selectors: string[];
  claim?: string[];
  /** Stops reading in slow-reader steps (a raw client on most topics: it falls behind fastest). */
  slow?: boolean;
}[] = [
  { kind: "eventsource", selectors: ["t/0", "t/1"] },
  { kind: "raw", selectors: ["t/*"] },
  { kind: "raw", selectors: ["p/*", "t/0"], claim: ["p/0"] },
  { kind: "eventsource", selectors: ["*"], claim: ["p/*"] },
  { kind: "eventsource", selectors: ["p/0", "p/1"] },
  { kind: "raw", selectors: ["*"], slow: true },
  { kind: "eventsource", selectors: ["t/2", "p/1"], claim: ["t/*"] },
  { kind: "raw", selectors: ["t/1", "p/1"], claim: ["*"] },
];

const SLOW_READERS = PROFILES.flatMap((p, i) => (p.slow ? [i] : []));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How much longer than `settleMs` the fence is awaited while a node is not ready (bounded). */
const NOT_READY_MS = 30_000;

export async function runFaults(options: RunOptions): Promise<RunResult> {
  const { target, seed } = options;
  const started = performance.now();
  const log = options.log ?? (() => {});
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;
  const long = options.scale === "long";
  const shape: ScheduleShape = {
    ...NODES[target],
    slowReaders: SLOW_READERS,
    minBatch: long ? 1000 : 600,
    maxBatch: long ? 10_000 : 1500,
    slowBatch: long ? [1000, 2000] : [1000, 1000],
    maxPauseMs: long ? 5000 : 1500,
  };
  // a short run's bursts (1,200 to 6,000 events) outrun a history of 500 (and the Redis stream's
  // `MAXLEN ~ 500`, which keeps up to about twice that); a long run keeps the default 10,000, and so
  // do the replicated targets, whose promise with wait >= 1 is "no herald.missed at all"
  const replicated = REPLICATED.includes(target);
  const historySize = long || replicated ? 10_000 : 500;
  const history = new History();
  const publishers = new Publishers(history, prng(seed ^ 0x5eed), long ? 60_000 : 20_000);
  const nodes: FaultNode[] = [];
  const subscribers: Subscriber[] = [];
  const stepsDone: string[] = [];
  const kinds: FaultKind[] = [];
  const phases: { name: string; from: number; to: number }[] = [];
  let broker: Broker | undefined;
  let background: Promise<void> | undefined;
  let running = true;
  let torn: Promise<void> | undefined;
  const teardown = () => {
    torn ??= (async () => {
      running = false;
      for (const s of subscribers) s.close();
      for (const node of nodes) await node.close();
      await broker?.kill(); // quicker than a graceful stop; the data goes anyway
      await broker?.stop();
      await background?.catch(() => {});
    })();
    return torn;
  };
  // The test runner ends a file that outlives its timeout with SIGTERM: stop every process started
  // here first (the RabbitMQ node runs in its own process group and would outlive this one).
  const onTerm = () => {
    void teardown().finally(() => process.exit(143));
  };
  process.once("SIGTERM", onTerm);
  try {
    broker = await startBroker(target);
    const redisHa = replicated && target.startsWith("redis");
    const wait = redisHa && options.redisWait !== undefined ? `?wait=${options.redisWait}` : "";
    const bus = broker === undefined ? "memory" : `${broker.url}${wait}`;
    for (let i = 0; i < shape.nodes; i++)
      nodes.push(
        await FaultNode.start(i, { bus, workers: shape.workers, historySize, maxBuffered: "64KiB" }),
      );
    log(`[${elapsed()}] ${target}: ${shape.nodes} node(s) x ${shape.workers} worker(s) on ${bus}`);

    // one event first, so a stream that opens before any other event still learns where it stands
    for (const node of nodes)
      await publishUntilAcked(
        () => publishers.publish(node, "warmup", 1, { single: true }),
        Date.now() + 60_000,
      );
    for (const [i, profile] of PROFILES.entries()) {
      const token = profile.claim === undefined ? undefined : await heraldToken({ subscribe: profile.claim });
      const record = history.subscriber({
        name: `s${i}(${profile.kind} ${profile.selectors.join(",")}${token ? ` claim ${profile.claim}` : ""})`,
        kind: profile.kind,
        selectors: profile.selectors,
        privateSelectors: profile.claim ?? [],
      });
      const node = i % nodes.length;
      subscribers.push(
        profile.kind === "eventsource"
          ? new EsSubscriber(history, record, nodes, node, token)
          : new RawSubscriber(history, record, nodes, node, token),
      );
    }
    await until(() => subscribers.every((s) => s.open), "every subscriber open", 30_000);

    const bgRng = prng(seed ^ 0xb9);
    background = (async () => {
      while (running) {
        const serving = nodes.filter((n) => n.serving);
        if (serving.length > 0) {
          const count = bgRng.next() < 0.5 ? 1 : 1 + bgRng.int(20);
          await publishers.publish(bgRng.pick(serving), "background", count, { single: true });
        }
        await sleep(20 + bgRng.int(40));
      }
    })();

    let index = 0;
    for (const step of schedule(seed, target, shape)) {
      if (options.signal?.aborted) break;
      if (options.steps !== undefined && index >= options.steps) break;
      if (options.durationMs !== undefined && index > 0 && performance.now() - started > options.durationMs)
        break;
      const text = describeStep(step);
      log(`[${elapsed()}] step ${index}: ${text}`);
      const from = performance.now();
      await runStep(step, index, { nodes, subscribers, publishers, broker });
      phases.push({ name: `step ${index} (${step.kind})`, from, to: performance.now() });
      stepsDone.push(text);
      kinds.push(step.kind);
      index++;
      await sleep(300);
    }

    running = false;
    await background;
    // undo every fault, then the fence: once each subscriber has it, everything before it is settled
    for (const node of nodes) {
      node.resume();
      if (node.state === "dead") await node.restart();
    }
    await until(() => subscribers.every((s) => s.open), "every subscriber open again", 60_000).catch(
      () => {},
    );
    let fenced = 0;
    const fenceDeadline = Date.now() + 60_000;
    for (const topic of TOPICS)
      if (await publishUntilAcked(() => publishers.fence(nodes[0]!, topic), fenceDeadline)) fenced++;
    log(`[${elapsed()}] faults over; fence published on ${fenced} of ${TOPICS.length} topics`);
    const fenceWait = options.signal?.aborted ? 0 : (options.settleMs ?? 60_000);
    const notReadyMs = options.signal?.aborted ? 0 : NOT_READY_MS;
    const fence = await awaitFences(history, nodes, { ms: fenceWait, notReadyMs });
    for (const line of fence.progress) log(`[${elapsed()}] ${line}`);
    const server: Record<FigureName, number> = { slowDisconnects: 0, missedSignals: 0, replayed: 0 };
    for (const node of nodes) {
      const figures = await node.figures();
      for (const name of FIGURES) server[name] += figures[name];
    }
    for (const s of subscribers) s.close();
    const report = check(
      history,
      (event) => phases.find((p) => event.sentAt >= p.from && event.sentAt <= p.to)?.name ?? "between steps",
    );
    const missedReasons: Record<string, number> = {};
    for (const sub of history.subscribers)
      for (const { data } of sub.missed) {
        let reason = "unreadable";
        try {
          reason = String((JSON.parse(data) as { reason?: unknown }).reason);
        } catch {
          // counted as unreadable
        }
        missedReasons[reason] = (missedReasons[reason] ?? 0) + 1;
      }
    return {
      target,
      seed,
      steps: stepsDone,
      kinds,
      report,
      server,
      publishRequests: { ...publishers.requests },
      publishFailures: [...publishers.failures],
      nodeLogs: nodes.map((node) => node.output().slice(-1500)),
      fence: fence.report,
      missedReasons,
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
  } finally {
    process.off("SIGTERM", onTerm);
    await teardown();
  }
}

interface World {
  readonly nodes: readonly FaultNode[];
  readonly subscribers: readonly Subscriber[];
  readonly publishers: Publishers;
  readonly broker: Broker | undefined;
}

/**
 * Concurrent batches of `burst`, one to each serving node in turn; when none serves, to the stopped
 * ones (answered once they resume); none alive: nothing sent. Events padded with up to `pad` bytes.
 */
function burstOn(world: World, burst: Burst, name: string, pad = 120): Promise<unknown> {
  let serving = world.nodes.filter((n) => n.serving);
  if (serving.length === 0) serving = world.nodes.filter((n) => n.state === "stopped");
  if (serving.length === 0) return Promise.resolve();
  return Promise.all(
    Array.from({ length: burst.batches }, (_, k) =>
      world.publishers.publish(serving[k % serving.length]!, `${name}.${k}`, burst.size, { pad }),
    ),
  );
}

/**
 * After a broker fault is undone, the next step starts once every serving node answers /readyz
 * (bounded): a node follows a failover a moment after the Sentinels or the cluster do (node-redis
 * asks again every second), and a load balancer's health check holds traffic until then. A node
 * still not ready after 30 s is the next step's problem (its publishes fail and are counted).
 */
async function nodesReady(world: World): Promise<void> {
  await eventually(
    async () =>
      (await Promise.all(world.nodes.filter((n) => n.serving).map((n) => n.ready()))).every(Boolean),
    "every node ready after the broker fault",
    30_000,
  ).catch(() => undefined);
}

async function runStep(step: Step, index: number, world: World): Promise<void> {
  const name = `step${index}`;
  switch (step.kind) {
    case "burst":
      await burstOn(world, step, name);
      return;
    case "stop-node": {
      const node = world.nodes[step.node]!;
      node.stop();
      // it stays stopped until the burst was answered (when another node took it) and `ms` passed
      const burst = burstOn(world, step, name);
      await (world.nodes.some((n) => n.serving) ? Promise.all([burst, sleep(step.ms)]) : sleep(step.ms));
      node.resume();
      await burst;
      return;
    }
    case "kill-node": {
      const node = world.nodes[step.node]!;
      const burst = burstOn(world, step, name);
      await sleep(50);
      await node.kill();
      await sleep(step.ms);
      await node.restart();
      // as a load balancer rebalancing: its clients come back (and resume), so later faults reach them
      for (const s of world.subscribers) if (s.preferred === step.node) s.reconnect();
      await burst;
      return;
    }
    case "kill-broker": {
      const broker = world.broker!;
      const burst = burstOn(world, step, name);
      await sleep(50);
      await broker.kill();
      await sleep(step.ms);
      await broker.start();
      await burst;
      await nodesReady(world);
      return;
    }
    case "kill-primary": {
      const broker = world.broker!;
      const burst = burstOn(world, step, name);
      await sleep(50);
      await broker.killPrimary!(step.ms);
      await burst;
      await nodesReady(world);
      return;
    }
    case "kill-broker-node": {
      const broker = world.broker!;
      const burst = burstOn(world, step, name);
      await sleep(50);
      await broker.killNode!(step.node, step.ms);
      await burst;
      await nodesReady(world);
      return;
    }
    case "stop-worker": {
      const node = world.nodes[0]!;
      const pid = await node.signalWorker(step.worker, "SIGSTOP");
      // the other worker may answer the whole burst, or some of it waits for this one: `ms` only
      const burst = burstOn(world, step, name);
      await sleep(step.ms);
      if (pid !== undefined) process.kill(pid, "SIGCONT");
      await burst;
      return;
    }
    case "kill-worker": {
      const node = world.nodes[0]!;
      const burst = burstOn(world, step, name);
      const pid = await node.signalWorker(step.worker, "SIGKILL");
      await burst;
      // the primary starts a replacement: wait for it before the next fault
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const pids = await node.pids();
        if (pids.length === 2 && !pids.includes(pid ?? -1)) break;
        await sleep(100);
      }
      return;
    }
    case "slow-reader": {
      const reader = world.subscribers[step.subscriber];
      if (!(reader instanceof RawSubscriber)) throw new Error(`subscriber ${step.subscriber} cannot be slow`);
      reader.pause();
      // big events, so what it does not read outgrows the socket buffers and Herald's bound; it
      // reads again once the burst was answered (so written to the streams) and `ms` have passed
      await Promise.all([burstOn(world, step, name, 6000), sleep(step.ms)]);
      reader.resume();
      return;
    }
  }
}

/** Calls `publish` until it is answered 2xx (a node or broker may be coming back), until `deadline`. */
async function publishUntilAcked(publish: () => Promise<boolean>, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    if (await publish()) return true;
    await sleep(200);
  }
  return false;
}

export function formatResult(result: RunResult): string {
  const r = result.report;
  const v = r.violations;
  const kinds = Object.entries(v)
    .filter(([k, n]) => k !== "total" && n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  const lines = [
    `seed ${result.seed}, bus ${result.target}, ${result.steps.length} steps, ${result.seconds} s`,
    `acknowledged ${r.acknowledged} of ${r.sent} events sent (${r.unacknowledged} not acknowledged; requests ok ${result.publishRequests.ok}, failed ${result.publishRequests.failed}, unanswered ${result.publishRequests.timedOut})`,
    ...result.publishFailures.map((f) => `  a failed publish: ${f}`),
    `delivered ${r.delivered}, expected ${r.expected}, missed signals ${r.missedSignals} (covering ${r.covered} expected deliveries)${
      r.missedSignals > 0
        ? `; by reason: ${Object.entries(result.missedReasons)
            .map(([k, n]) => `${k} ${n}`)
            .join(", ")}`
        : ""
    }`,
    `server: slow disconnects ${result.server.slowDisconnects}, herald.missed sent ${result.server.missedSignals}, replayed ${result.server.replayed}`,
    `violations ${v.total}${kinds ? `: ${kinds}` : ""}`,
    ...Object.entries(r.byPhase).map(
      ([phase, counts]) =>
        `  sent during ${phase}: ${Object.entries(counts)
          .map(([k, n]) => `${k} ${n}`)
          .join(", ")}`,
    ),
    ...r.perSubscriber.map(
      (s) =>
        `  ${s.name}: opens ${s.opens}, expected ${s.expected}, delivered ${s.delivered}, missed signals ${s.missedSignals}, covered ${s.covered}` +
        (Object.values(s.violations).some((n) => n > 0)
          ? `, violations ${Object.entries(s.violations)
              .filter(([, n]) => n > 0)
              .map(([k, n]) => `${k} ${n}`)
              .join(", ")}`
          : ""),
    ),
    ...result.steps.map((s, i) => `  step ${i}: ${s}`),
    ...r.examples.map((e) => `  ${e}`),
    ...result.fence.map((line) => `  ${line}`),
    ...result.nodeLogs.map((text, i) => `  node ${i} log, its end:\n${text.trim().replace(/^/gm, "    ")}`),
  ];
  return lines.join("\n");
}
