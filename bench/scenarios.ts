/**
 * The benchmark scenarios (issue 2 and issue 6). Each returns one `Row` per run; bench/run.ts
 * prints the median (min..max) of each figure over the runs.
 */

import { runAbuse } from "./abuse.ts";
import { runFloor } from "./floor.ts";
import {
  clock,
  eventData,
  HOST,
  LoadPool,
  MAX_PER_LOADGEN,
  postJson,
  publishEvent,
  type ServerHandle,
  sleep,
  startServer,
} from "./harness.ts";
import { runPipeline } from "./pipeline.ts";
import { treeSwitches, treeWrites } from "./proc.ts";
import { median, percentile } from "./stats.ts";

export type Row = Record<string, number>;

export interface Options {
  runs: number;
  /** Seconds of publishing in the saturation and publishing-rate scenarios. */
  duration: number;
  /** Workers of the scenarios that use several processes. */
  workers: number;
  size: number;
}

const TOPIC = "bench";
const PATH = `/events?topic=${TOPIC}`;

/** Server CPU and load-generator CPU around `work`. */
async function measured<T>(server: ServerHandle, pool: LoadPool, work: () => Promise<T>) {
  const serverBefore = server.cpuMs();
  const sysBefore = server.sysMs();
  const genBefore = pool.cpuMs();
  const writesBefore = treeWrites(server.pid);
  const preemptedBefore = treeSwitches(server.pid, "nonvoluntary");
  const genPreemptedBefore = pool.pids.reduce((sum, pid) => sum + treeSwitches(pid, "nonvoluntary"), 0);
  const selfBefore = process.cpuUsage();
  const value = await work();
  const self = process.cpuUsage(selfBefore);
  return {
    value,
    /** write-family system calls of the server processes (socket writes, IPC, logs) */
    serverWrites: treeWrites(server.pid) - writesBefore,
    /** times a server process was preempted while it could run (more runnable processes than cores) */
    serverPreempted: treeSwitches(server.pid, "nonvoluntary") - preemptedBefore,
    genPreempted:
      pool.pids.reduce((sum, pid) => sum + treeSwitches(pid, "nonvoluntary"), 0) - genPreemptedBefore,
    serverCpuMs: server.cpuMs() - serverBefore,
    serverSysMs: server.sysMs() - sysBefore,
    genCpuMs: pool.cpuMs() - genBefore,
    publisherCpuMs: (self.user + self.system) / 1000,
  };
}

/** Waits until the pool received `target` events, or `ms` passed with no progress. */
async function waitFor(pool: LoadPool, target: number, ms = 5000): Promise<void> {
  let last = -1;
  let since = Date.now();
  while (pool.received < target) {
    if (pool.received !== last) {
      last = pool.received;
      since = Date.now();
    } else if (Date.now() - since > ms) return;
    await sleep(10);
  }
}

/** Publishes `events` at `rate`/s to `subs` subscribers: latency, losses, CPU per delivery. */
async function paced(
  pool: LoadPool,
  server: ServerHandle,
  subs: number,
  events: number,
  rate: number,
  size: number,
  seq0: number,
): Promise<Row> {
  await pool.reset();
  await pool.progress(true);
  const started = clock();
  const { serverCpuMs, serverSysMs, genCpuMs } = await measured(server, pool, async () => {
    const pending: Promise<void>[] = [];
    for (let i = 0; i < events; i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - clock();
      if (wait > 0) await sleep(wait);
      pending.push(publishEvent(server, TOPIC, seq0 + i, size));
    }
    await Promise.all(pending);
    await waitFor(pool, events * subs);
  });
  const elapsed = (clock() - started) / 1000;
  await pool.progress(false);
  const report = await pool.report(events);
  return {
    deliveries: report.received,
    "deliveries/s": report.received / elapsed,
    "p50 ms": percentile(report.hist, 0.5),
    "p99 ms": percentile(report.hist, 0.99),
    lost: report.lost,
    "dup/reorder": report.extra + report.disorder,
    "server µs/delivery": (serverCpuMs * 1000) / Math.max(1, report.received),
    "server kernel share %": (100 * serverSysMs) / Math.max(1, serverCpuMs),
    "loadgen µs/delivery": (genCpuMs * 1000) / Math.max(1, report.received),
  };
}

/**
 * Closed loop: keeps up to `window` events ahead of the slowest delivery, with at most 8 publishes
 * in flight (a publish is answered once its worker has written it), for `seconds`.
 */
async function saturate(
  pool: LoadPool,
  server: ServerHandle,
  subs: number,
  seconds: number,
  size: number,
  seq0: number,
): Promise<Row> {
  await pool.reset();
  await pool.progress(true);
  const window = 64;
  let published = 0;
  const roundTrips: number[] = [];
  const started = clock();
  const m = await measured(server, pool, async () => {
    const inFlight = new Set<Promise<void>>();
    while (clock() - started < seconds * 1000) {
      const deliveredEvents = pool.received / subs;
      if (published - deliveredEvents < window && inFlight.size < 8) {
        const sent = clock();
        const p = publishEvent(server, TOPIC, seq0 + published, size).finally(() => {
          roundTrips.push(clock() - sent);
          inFlight.delete(p);
        });
        inFlight.add(p);
        published++;
      } else {
        await Promise.race([sleep(2), ...inFlight]);
      }
    }
    await Promise.all(inFlight);
    await waitFor(pool, published * subs);
  });
  const elapsed = (clock() - started) / 1000;
  await pool.progress(false);
  const report = await pool.report(published);
  const per1k = (n: number) => (1000 * n) / Math.max(1, report.received);
  return {
    events: published,
    "deliveries/s": report.received / elapsed,
    "server µs/delivery": (m.serverCpuMs * 1000) / Math.max(1, report.received),
    "server kernel share %": (100 * m.serverSysMs) / Math.max(1, m.serverCpuMs),
    "loadgen µs/delivery": (m.genCpuMs * 1000) / Math.max(1, report.received),
    "deliveries per server write": report.received / Math.max(1, m.serverWrites),
    "server µs/write": (m.serverCpuMs * 1000) / Math.max(1, m.serverWrites),
    "server preemptions per 1k deliveries": per1k(m.serverPreempted),
    "loadgen preemptions per 1k deliveries": per1k(m.genPreempted),
    "publish answered ms (median)": median(roundTrips),
    lost: report.lost,
    "dup/reorder": report.extra + report.disorder,
    "p50 ms": percentile(report.hist, 0.5),
    "p99 ms": percentile(report.hist, 0.99),
  };
}

async function withSubscribers<T>(
  args: string[],
  subs: number,
  work: (server: ServerHandle, pool: LoadPool) => Promise<T>,
): Promise<T> {
  const server = await startServer(args);
  try {
    const pool = await LoadPool.open(server, subs, PATH);
    try {
      return await work(server, pool);
    } finally {
      await pool.close();
    }
  } finally {
    await server.stop();
  }
}

let seq = 1;
const nextSeq = (n: number) => {
  const first = seq;
  seq += n;
  return first;
};

export const SCENARIOS: Record<
  string,
  { title: string; run: (o: Options) => Promise<Row[]> /** runs when --runs is not given */; runs?: number }
> = {
  light: {
    title:
      "10,000 subscribers, 25 events of ~200 B at 5/s, on 1 worker then N (targets: all delivered, p99 < 200 ms (issue 2), < 50 ms (issue 6))",
    run: async (o) => {
      const rows: Row[] = [];
      for (const workers of new Set([1, o.workers])) {
        await withSubscribers(["--workers", String(workers)], 10_000, async (server, pool) => {
          for (let r = 0; r < o.runs; r++) {
            rows.push({ workers, ...(await paced(pool, server, 10_000, 25, 5, o.size, nextSeq(25))) });
          }
        });
      }
      return rows;
    },
  },
  rate50: {
    title:
      "10,000 subscribers, 25 events of ~200 B at 50/s, 1 worker (target: all delivered; CPU per delivery)",
    run: (o) =>
      withSubscribers(["--workers", "1"], 10_000, async (server, pool) => {
        const rows: Row[] = [];
        for (let r = 0; r < o.runs; r++)
          rows.push(await paced(pool, server, 10_000, 25, 50, o.size, nextSeq(25)));
        return rows;
      }),
  },
  saturation: {
    title:
      "10,000 subscribers, ~200 B events published as fast as delivered, 1 worker (target: < 3 µs server CPU per delivery, 0 lost)",
    run: (o) =>
      withSubscribers(["--workers", "1"], 10_000, async (server, pool) => {
        const rows: Row[] = [];
        for (let r = 0; r < o.runs; r++)
          rows.push(await saturate(pool, server, 10_000, o.duration, o.size, nextSeq(1_000_000)));
        return rows;
      }),
  },
  idle: {
    title:
      "19,000 idle connections, 1 worker: server RSS per connection (targets: < 12 KiB (issue 2), < 9 KB (issue 6))",
    run: async (o) => {
      const rows: Row[] = [];
      const n = 19_000;
      for (let r = 0; r < o.runs; r++) {
        const server = await startServer(["--workers", "1"]);
        try {
          // warm up the code paths with 200 streams opened and closed, then take the baseline
          const warm = await LoadPool.open(server, 200, PATH);
          await warm.close();
          await sleep(1000);
          const before = server.rss();
          const first = await LoadPool.open(server, n / 2, PATH);
          await sleep(1000);
          const half = server.rss();
          const second = await LoadPool.open(server, n / 2, PATH);
          await sleep(2000);
          const after = server.rss();
          rows.push({
            "RSS before MB": before / 2 ** 20,
            "RSS at 19,000 MB": after / 2 ** 20,
            "KB per connection": (after - before) / n / 1000,
            "KiB per connection": (after - before) / n / 1024,
            "KB per connection, 9,500 -> 19,000": (after - half) / (n / 2) / 1000,
          });
          await Promise.all([first.close(), second.close()]);
        } finally {
          await server.stop();
        }
      }
      return rows;
    },
  },
  publish: {
    title: "publishing rate, one subscriber, pipelined keep-alive POST /publish (target: > 30,000/s)",
    run: async (o) => {
      const rows: Row[] = [];
      for (const workers of new Set([1, o.workers])) {
        await withSubscribers(["--workers", String(workers)], 1, async (server, pool) => {
          for (let r = 0; r < o.runs; r++) {
            await pool.reset();
            const first = nextSeq(10_000_000);
            const { value, serverCpuMs, serverSysMs, publisherCpuMs } = await measured(server, pool, () =>
              runPipeline({
                host: HOST,
                port: server.port,
                path: "/publish",
                connections: 8,
                depth: 16,
                durationMs: o.duration * 1000,
                body: (i) => JSON.stringify({ topic: TOPIC, data: eventData(first + i, o.size) }),
              }),
            );
            await pool.progress(true);
            await waitFor(pool, value.ok, 3000);
            await pool.progress(false);
            const report = await pool.report(value.ok);
            rows.push({
              workers,
              "publishes/s": value.ok / (value.elapsedMs / 1000),
              failed: value.failed,
              lost: report.lost,
              "server µs/publish": (serverCpuMs * 1000) / Math.max(1, value.ok),
              "server kernel share %": (100 * serverSysMs) / Math.max(1, serverCpuMs),
              "publisher µs/publish": (publisherCpuMs * 1000) / Math.max(1, value.ok),
            });
          }
        });
      }
      return rows;
    },
  },
  "publish-batch": {
    title: "publishing rate through POST /publish/batch (100 events per request), one subscriber, 1 worker",
    run: (o) =>
      withSubscribers(["--workers", "1"], 1, async (server, pool) => {
        const rows: Row[] = [];
        const per = 100;
        for (let r = 0; r < o.runs; r++) {
          await pool.reset();
          const first = nextSeq(100_000_000);
          const { value, serverCpuMs } = await measured(server, pool, () =>
            runPipeline({
              host: HOST,
              port: server.port,
              path: "/publish/batch",
              connections: 2,
              depth: 4,
              durationMs: o.duration * 1000,
              body: (i) =>
                JSON.stringify({
                  events: Array.from({ length: per }, (_, k) => ({
                    topic: TOPIC,
                    data: eventData(first + i * per + k, o.size),
                  })),
                }),
            }),
          );
          const events = value.ok * per;
          await pool.progress(true);
          await waitFor(pool, events, 3000);
          await pool.progress(false);
          const report = await pool.report(events);
          rows.push({
            "events/s": events / (value.elapsedMs / 1000),
            failed: value.failed,
            lost: report.lost,
            "server µs/event": (serverCpuMs * 1000) / Math.max(1, events),
          });
        }
        return rows;
      }),
  },
  scaling: {
    title: "how cost grows: saturation at 1,000 / 10,000 / 50,000 subscribers (50,000 needs workers: 3 here)",
    run: async (o) => {
      const rows: Row[] = [];
      for (const subs of [1_000, 10_000, 50_000]) {
        // the fewest workers that hold `subs` (each under MAX_PER_LOADGEN, below the 20,000 open
        // files a process may have here), and at least one per core: 3 for 50,000 on 2 cores
        const workers = subs > MAX_PER_LOADGEN ? Math.max(o.workers, Math.ceil(subs / MAX_PER_LOADGEN)) : 1;
        await withSubscribers(["--workers", String(workers)], subs, async (server, pool) => {
          for (let r = 0; r < o.runs; r++) {
            const row = await saturate(pool, server, subs, o.duration, o.size, nextSeq(1_000_000));
            rows.push({ subscribers: subs, workers, ...row });
          }
        });
      }
      return rows;
    },
  },
  abuse: {
    runs: 1,
    title:
      "hostile clients (heavy Mercure templates from 3 IPs, 9,000 streams of 32 prefixes, 1,000-event batches every second) beside 1,000 Herald + 200 Mercure subscribers, 1 worker: publish latency and the longest event-loop block, hostile / clean (targets: < 2x, no block over 100 ms)",
    run: runAbuse,
  },
  floor: {
    title:
      "the machine's floor, no Herald: C programs broadcast ~200 B to 10,000 loopback sockets at 5/s from 1 and 2 writer processes (bench/floor/)",
    run: runFloor,
  },
  "100k": {
    runs: 1,
    title:
      "100,000 subscribers on workers, 5 broadcasts of ~200 B, one every 2 s: every one delivered; RSS of all processes",
    run: async (o) => {
      const rows: Row[] = [];
      const subs = 100_000;
      const workers = Math.max(o.workers, 7); // ~14,300 connections per worker, under 20,000 open files
      for (let r = 0; r < o.runs; r++) {
        const server = await startServer(["--workers", String(workers)]);
        try {
          await sleep(1000);
          const rssBefore = server.rss();
          const pool = await LoadPool.open(server, subs, PATH);
          try {
            await sleep(2000);
            const rssIdle = server.rss();
            const row = await paced(pool, server, subs, 5, 0.5, o.size, nextSeq(5));
            rows.push({
              subscribers: subs,
              workers,
              ...row,
              "server RSS MB, all processes, before": rssBefore / 2 ** 20,
              "server RSS MB, all processes, 100k idle": rssIdle / 2 ** 20,
              "server KB per connection": (rssIdle - rssBefore) / subs / 1000,
              "loadgen RSS MB": pool.rss() / 2 ** 20,
            });
          } finally {
            await pool.close();
          }
        } finally {
          await server.stop();
        }
      }
      return rows;
    },
  },
};

export { postJson };
