/**
 * The abuse benchmark (issue 11): what hostile clients cost everybody else. One worker serves
 * clean subscribers (Herald streams on `bench`, Mercure streams on a URI template); publishes are
 * paced and timed (publish answered, and publish -> receive), and the event loop's longest block
 * is read from the server's own `nodejs_eventloop_lag_max_seconds` (prom-client's
 * monitorEventLoopDelay, reset at each scrape of /metrics). Then, on the same server, hostile
 * clients join and the same publishes are timed again:
 * - templates: 3 client IPs, each opening 99 Mercure streams of 32 distinct heavy URI templates
 *   (see `heavy`: starting with a variable, so no literal prefix can skip them); most streams are
 *   refused by the per-IP cap, and the counts are reported;
 * - patterns: 9,000 Herald streams with 32 prefix selectors each;
 * - big batches: a publisher sending 1,000-event batches (`POST /publish/batch`) every second (the
 *   default publish rate, 1,000 events/s, once batches count per event).
 * Printed: each figure clean and hostile, and the ratio hostile / clean (target: under 2x, and no
 * event-loop block over 100 ms). Last, a "pattern flood": one batch that all 9,000 pattern streams
 * match (900,000 deliveries), with the longest block and /healthz answer while it is written.
 */
import { request } from "node:http";
import {
  clock,
  eventData,
  HOST,
  LoadPool,
  postJson,
  type ServerHandle,
  sleep,
  startServer,
} from "./harness.ts";
import type { Options, Row } from "./scenarios.ts";
import { median, percentile } from "./stats.ts";

const SECRET = "herald-bench-mercure-secret-not-for-production";
const CLEAN_HERALD = 1000;
const CLEAN_MERCURE = 200;
const EVENTS = 100;
const RATE = 10;
const HOSTILE_IPS = 3;
const HOSTILE_STREAMS_PER_IP = 99;
const TEMPLATES_PER_STREAM = 32;
const PATTERN_STREAMS = 9000;
const BATCH = 1000;
const BATCH_EVERY_MS = 1000;
const FLOOD_EVENTS = 100;

const books = "https://example.com/books/{id}";
const mercurePath = (topics: string[]) =>
  `/.well-known/mercure?${topics.map((t) => `topic=${encodeURIComponent(t)}`).join("&")}`;

/**
 * Hostile templates, distinct: the issue's `{+q<n>,v0,...,v17}@@` and, to run every match to the
 * end of the topic, `{+a}{?h<n>,v0,...,v10}` (no literal start or end; its DFA has 188 states,
 * under HERALD_MAX_TEMPLATE_SIZE).
 */
const heavy = (n: number) =>
  n % 2 === 0
    ? `{+q${n},${Array.from({ length: 18 }, (_, i) => `v${i}`).join(",")}}@@`
    : `{+a}{?h${n},${Array.from({ length: 11 }, (_, i) => `v${i}`).join(",")}}`;

let seq = 1_000_000_000;

export async function runAbuse(o: Options): Promise<Row[]> {
  const rows: Row[] = [];
  for (let r = 0; r < o.runs; r++) {
    const server = await startServer([
      "--workers",
      "1",
      "--mercure-jwt-key",
      SECRET,
      "--mercure-anonymous",
      "true",
      // the hostile clients use 0.x URI templates (topic=)
      "--mercure-protocol-version-compatibility",
      "8",
    ]);
    const pools: LoadPool[] = [];
    const hostile: { close(): void }[] = [];
    try {
      const herald = await LoadPool.open(server, CLEAN_HERALD, "/events?topic=bench");
      pools.push(herald);
      const mercure = await LoadPool.open(server, CLEAN_MERCURE, mercurePath([books]));
      pools.push(mercure);
      const clean = await measure(server, [herald, mercure], o.size);

      // hostile clients join
      const templates = await openTemplateStreams(server, hostile);
      const patterns = await LoadPool.open(
        server,
        PATTERN_STREAMS,
        `/events?${Array.from({ length: 32 }, (_, k) => `topic=p${k}/${k}/*`).join("&")}`,
      );
      pools.push(patterns);
      let batching = true;
      let batches = 0;
      const batcher = (async () => {
        while (batching) {
          const started = clock();
          const events = Array.from({ length: BATCH }, (_, i) => ({ topic: `noise/${i}`, data: i }));
          const answer = await postJson(`${server.url}/publish/batch`, { events });
          if (answer.status === 200) batches++;
          await sleep(Math.max(0, BATCH_EVERY_MS - (clock() - started)));
        }
      })();
      await sleep(500);
      const attacked = await measure(server, [herald, mercure], o.size);
      batching = false;
      await batcher;
      const flood = await floodPatterns(server, patterns, o.size);

      const ratio = (a: number, b: number) => a / Math.max(b, 0.001);
      rows.push({
        "template streams accepted": templates.accepted,
        "template streams refused (429)": templates.refused,
        "hostile batches of 1,000": batches,
        "publish answered p50 ms, clean": clean.answeredP50,
        "publish answered p50 ms, hostile": attacked.answeredP50,
        "publish answered p50 ratio": ratio(attacked.answeredP50, clean.answeredP50),
        "publish answered p99 ms, clean": clean.answeredP99,
        "publish answered p99 ms, hostile": attacked.answeredP99,
        "publish answered p99 ratio": ratio(attacked.answeredP99, clean.answeredP99),
        "delivery p50 ms, clean": clean.deliveryP50,
        "delivery p50 ms, hostile": attacked.deliveryP50,
        "delivery p99 ms, clean": clean.deliveryP99,
        "delivery p99 ms, hostile": attacked.deliveryP99,
        "delivery p99 ratio": ratio(attacked.deliveryP99, clean.deliveryP99),
        "longest event-loop block ms, clean": clean.blockMs,
        "longest event-loop block ms, hostile": attacked.blockMs,
        lost: clean.lost + attacked.lost,
        "pattern flood: deliveries": flood.deliveries,
        "pattern flood: all written, s": flood.seconds,
        "pattern flood: longest event-loop block ms": flood.blockMs,
        "pattern flood: longest /healthz ms": flood.healthzMs,
      });
    } finally {
      for (const h of hostile) h.close();
      for (const pool of pools) await pool.close();
      await server.stop();
    }
  }
  return rows;
}

/**
 * One batch of FLOOD_EVENTS events that every one of the 9,000 pattern streams matches (900,000
 * deliveries): how long until all are written, the longest event-loop block meanwhile, and the
 * longest /healthz answer of a prober asking every 5 ms.
 */
async function floodPatterns(server: ServerHandle, pool: LoadPool, size: number) {
  await pool.reset();
  await pool.progress(true);
  await lagMaxMs(server);
  let probing = true;
  let healthzMs = 0;
  const prober = (async () => {
    while (probing) {
      const sent = clock();
      await fetch(`${server.url}/healthz`).then((r) => r.text());
      healthzMs = Math.max(healthzMs, clock() - sent);
      await sleep(5);
    }
  })();
  const started = clock();
  const events = Array.from({ length: FLOOD_EVENTS }, (_, i) => ({
    topic: `p0/0/${i}`,
    data: eventData(seq++, size),
  }));
  const answer = await postJson(`${server.url}/publish/batch`, { events });
  if (answer.status !== 200) throw new Error(`flood batch answered ${answer.status}: ${answer.text}`);
  const target = FLOOD_EVENTS * PATTERN_STREAMS;
  const deadline = clock() + 120_000;
  while (pool.received < target && clock() < deadline) await sleep(20);
  const seconds = (clock() - started) / 1000;
  const deliveries = pool.received;
  probing = false;
  await prober;
  await pool.progress(false);
  return { deliveries, seconds, blockMs: await lagMaxMs(server), healthzMs };
}

interface Phase {
  answeredP50: number;
  answeredP99: number;
  deliveryP50: number;
  deliveryP99: number;
  blockMs: number;
  lost: number;
}

/** Paced publishes to every clean subscriber: publish round trips, deliveries, longest block. */
async function measure(server: ServerHandle, pools: LoadPool[], size: number): Promise<Phase> {
  for (const pool of pools) await pool.reset();
  await lagMaxMs(server); // resets the server's event-loop delay histogram
  const answered: number[] = [];
  const started = clock();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < EVENTS; i++) {
    const wait = started + (i * 1000) / RATE - clock();
    if (wait > 0) await sleep(wait);
    const n = seq++;
    const sent = clock();
    pending.push(
      postJson(`${server.url}/publish`, {
        topic: ["bench", `https://example.com/books/${n}`],
        data: eventData(n, size),
      }).then((answer) => {
        if (answer.status !== 200) throw new Error(`publish answered ${answer.status}: ${answer.text}`);
        answered.push(clock() - sent);
      }),
    );
  }
  await Promise.all(pending);
  await sleep(300);
  const blockMs = await lagMaxMs(server);
  const reports = await Promise.all(pools.map((pool) => pool.report(EVENTS)));
  const hist = new Float64Array(reports[0]?.hist.length ?? 0);
  for (const report of reports)
    for (let i = 0; i < hist.length; i++) hist[i] = (hist[i] as number) + (report.hist[i] as number);
  const sorted = [...answered].sort((a, b) => a - b);
  return {
    answeredP50: median(answered),
    answeredP99: sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] as number,
    deliveryP50: percentile(hist, 0.5),
    deliveryP99: percentile(hist, 0.99),
    blockMs,
    lost: reports.reduce((sum, r) => sum + r.lost, 0),
  };
}

/** The server's longest event-loop delay since the previous scrape, in ms. */
async function lagMaxMs(server: ServerHandle): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("nodejs_eventloop_lag_max_seconds"));
  return line === undefined ? Number.NaN : Number(line.split(" ").pop()) * 1000;
}

/** The hostile Mercure clients: 3 IPs x 99 streams x 32 distinct heavy templates. */
async function openTemplateStreams(server: ServerHandle, open: { close(): void }[]) {
  let accepted = 0;
  let refused = 0;
  let n = 0;
  for (let ip = 0; ip < HOSTILE_IPS; ip++) {
    const attempts: Promise<void>[] = [];
    for (let s = 0; s < HOSTILE_STREAMS_PER_IP; s++) {
      const topics = Array.from({ length: TEMPLATES_PER_STREAM }, () => heavy(n++));
      attempts.push(
        new Promise<void>((resolve) => {
          const req = request(
            { host: HOST, port: server.port, path: mercurePath(topics), localAddress: `127.0.1.${ip + 1}` },
            (res) => {
              if (res.statusCode === 200) {
                accepted++;
                open.push({ close: () => req.destroy() });
              } else refused++;
              res.resume();
              resolve();
            },
          );
          req.on("error", () => {
            refused++;
            resolve();
          });
          req.end();
        }),
      );
    }
    await Promise.all(attempts);
  }
  return { accepted, refused };
}
