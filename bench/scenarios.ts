/**
 * The benchmark scenarios (issues 2, 6, 11 and 14). Each returns one `Row` per run (per hub, for
 * those measured beside nchan: bench/versus.ts); bench/run.ts prints the median (min..max) of each
 * figure over the runs.
 */

import { runAbuse } from "./abuse.ts";
import { runFloor } from "./floor.ts";
import { eventData, HOST, LoadPool, MAX_PER_LOADGEN, postJson, sleep, startServer } from "./harness.ts";
import { runLight } from "./light.ts";
import { measured, nextSeq, PATH, paced, saturate, TOPIC, waitFor, withSubscribers } from "./load.ts";
import { measureCeiling } from "./log-ceiling.ts";
import { runPipeline } from "./pipeline.ts";
import { runPresence } from "./presence.ts";
import { runIdle, runPublish, runSaturation } from "./versus.ts";

/** One run's figures; `target` names the hub measured (bench/versus.ts), `run` the run's index. */
export type Row = Record<string, number | string>;

export interface Options {
  runs: number;
  /** Seconds of publishing in the saturation and publishing-rate scenarios. */
  duration: number;
  /** Workers of the scenarios that use several processes. */
  workers: number;
  /** Keep-alive connections of the `publish` scenario's pool (one request in flight on each). */
  connections: number;
  size: number;
}

export const SCENARIOS: Record<
  string,
  { title: string; run: (o: Options) => Promise<Row[]> /** runs when --runs is not given */; runs?: number }
> = {
  ceiling: {
    title:
      "the ceiling of one log (issue 17): events/s one Redis stream, then one RabbitMQ stream, carry into 2 Herald nodes (1 subscriber each) before p99 passes 100 ms; a ladder of rates, 3 s each",
    runs: 1,
    run: async (o) => {
      const rows: Row[] = [];
      for (let r = 0; r < o.runs; r++)
        for (const bus of ["redis", "rabbitmq"] as const)
          for (const step of await measureCeiling(bus, o.duration)) rows.push({ run: r, ...step });
      return rows;
    },
  },
  light: {
    title:
      "10,000 subscribers, 25 events of ~200 B at 5/s, on 1 worker then N, each run beside the C floor with as many writer processes (bench/light.ts; targets: all delivered, p99 <= 1.1x the floor's)",
    run: runLight,
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
      "10,000 subscribers, ~200 B events published as fast as delivered, beside nchan: nchan, herald on 1 process, herald on N workers (targets: < 3 µs server CPU per delivery, <= 0.3x nchan's, 0 lost)",
    run: runSaturation,
  },
  idle: {
    title:
      "19,000 idle connections, beside nchan: server RSS per connection (targets: < 9 KB (issue 6), <= 0.5x nchan's)",
    run: runIdle,
  },
  publish: {
    title:
      "publishing rate, one subscriber, a pool of keep-alive connections (--connections, 32) with one POST in flight on each (no pipelining), beside nchan (target: >= 1.0x nchan's publishes/s, server CPU per publish <= nchan's, 0 failed, 0 lost)",
    run: runPublish(false),
  },
  "publish-pipelined": {
    title:
      "publishing rate, one subscriber, pipelined keep-alive POSTs (8 connections x 16 in flight), beside nchan",
    run: runPublish(true),
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
  presence: {
    title:
      "the cost of presence (issue 16): 5,000 subscribers, 25 events of ~200 B at 25/s, then 2,000 streams each with its own token sub opened and closed (32 at a time), 1 worker, with --presence on the topic and without: server CPU per delivery and per connect+disconnect, and the ratios on/off",
    run: runPresence,
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
