/**
 * Load shapes shared by the scenarios: CPU measured around some work, paced publishing (latency),
 * saturation (a closed loop publishing as fast as events are delivered), and a server with its
 * subscribers held for the duration of some work.
 */
import { clock, LoadPool, publishEvent, type ServerHandle, sleep, startServer } from "./harness.ts";
import { treeSwitches, treeWrites } from "./proc.ts";
import type { Row } from "./scenarios.ts";
import { median, percentile } from "./stats.ts";

export const TOPIC = "bench";
export const PATH = `/events?topic=${TOPIC}`;

/** Server CPU and load-generator CPU around `work`. */
export async function measured<T>(server: ServerHandle, pool: LoadPool, work: () => Promise<T>) {
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
export async function waitFor(pool: LoadPool, target: number, ms = 5000): Promise<void> {
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
export async function paced(
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
export async function saturate(
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

export async function withSubscribers<T>(
  args: string[] | (() => Promise<ServerHandle>),
  subs: number,
  work: (server: ServerHandle, pool: LoadPool) => Promise<T>,
): Promise<T> {
  const server = await (typeof args === "function" ? args() : startServer(args));
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
export const nextSeq = (n: number) => {
  const first = seq;
  seq += n;
  return first;
};
