/**
 * The scenarios measured beside nginx + nchan (issue 14): each run measures nchan, Herald on 1
 * process and Herald on the default workers one after the other (interleaved, so a change in the
 * machine's load hits all three), and every Herald figure of interest is also printed as a ratio
 * to nchan's figure of the same run ("herald, 1 process / nchan").
 */
import { LoadPool, type ServerHandle, sleep, startServer } from "./harness.ts";
import { measured, nextSeq, PATH, saturate, TOPIC, waitFor } from "./load.ts";
import { nchanMissing, startNchan } from "./nchan.ts";
import { publishLoad } from "./publisher.ts";
import type { Options, Row } from "./scenarios.ts";

export const REFERENCE = "nchan";
/** Marks the rows holding ratios (bench/run.ts gathers them into the closing summary). */
export const RATIO = ` / ${REFERENCE}`;

interface Target {
  name: string;
  start(): Promise<ServerHandle>;
}

let warned = false;

/** nchan (the reference) when installed, Herald on 1 process, Herald on `workers` (if more than 1). */
function targets(o: Options): Target[] {
  const list: Target[] = [];
  const missing = nchanMissing();
  if (missing === undefined) list.push({ name: REFERENCE, start: startNchan });
  else if (!warned) {
    warned = true;
    console.log(`  no reference, Herald only: ${missing}`);
  }
  list.push({ name: "herald, 1 process", start: () => startServer(["--workers", "1"]) });
  if (o.workers > 1)
    list.push({
      name: `herald, ${o.workers} workers`,
      start: () => startServer(["--workers", String(o.workers)]),
    });
  return list;
}

/**
 * `rows` plus, for each Herald row, a row `<target> / nchan` holding for each of `columns` the
 * Herald figure divided by nchan's figure of the same run.
 */
function withRatios(rows: Row[], columns: string[]): Row[] {
  const out = [...rows];
  for (const row of rows) {
    if (row.target === REFERENCE) continue;
    const ref = rows.find((r) => r.target === REFERENCE && r.run === row.run);
    if (ref === undefined) continue;
    const ratio: Row = { target: `${row.target}${RATIO}`, run: row.run as number };
    for (const column of columns) ratio[column] = (row[column] as number) / (ref[column] as number);
    out.push(ratio);
  }
  return out;
}

interface Held {
  target: Target;
  server: ServerHandle;
  pool: LoadPool;
}

/** Starts every target with `subs` subscribers each, runs `work`, then stops them all. */
async function withAll<T>(o: Options, subs: number, work: (held: Held[]) => Promise<T>): Promise<T> {
  const held: Held[] = [];
  try {
    for (const target of targets(o)) {
      const server = await target.start();
      try {
        held.push({ target, server, pool: await LoadPool.open(server, subs, PATH) });
      } catch (error) {
        await server.stop();
        throw error;
      }
    }
    return await work(held);
  } finally {
    for (const { server, pool } of held) {
      await pool.close();
      await server.stop();
    }
  }
}

/** 10,000 subscribers each, events published as fast as they are delivered (bench/load.ts `saturate`). */
export async function runSaturation(o: Options): Promise<Row[]> {
  const subs = 10_000;
  const rows: Row[] = [];
  await withAll(o, subs, async (held) => {
    for (let run = 0; run < o.runs; run++) {
      for (const { target, server, pool } of held) {
        const row = await saturate(pool, server, subs, o.duration, o.size, nextSeq(1_000_000));
        rows.push({ target: target.name, run, ...row });
      }
    }
  });
  return withRatios(rows, ["server µs/delivery", "deliveries/s"]);
}

/** 19,000 idle streams on a fresh server: RSS (and PSS) per connection. */
export async function runIdle(o: Options): Promise<Row[]> {
  const n = 19_000;
  const rows: Row[] = [];
  for (let run = 0; run < o.runs; run++) {
    for (const target of targets(o)) {
      const server = await target.start();
      try {
        // warm up the code paths with 200 streams opened and closed, then take the baseline
        const warm = await LoadPool.open(server, 200, PATH);
        await warm.close();
        await sleep(1000);
        const before = server.rss();
        const pssBefore = server.pss();
        const first = await LoadPool.open(server, n / 2, PATH);
        await sleep(1000);
        const half = server.rss();
        const second = await LoadPool.open(server, n / 2, PATH);
        await sleep(2000);
        const after = server.rss();
        const pssAfter = server.pss();
        rows.push({
          target: target.name,
          run,
          "RSS before MB": before / 2 ** 20,
          "RSS at 19,000 MB": after / 2 ** 20,
          "KB per connection": (after - before) / n / 1000,
          "KB per connection, 9,500 -> 19,000": (after - half) / (n / 2) / 1000,
          "PSS KB per connection": (pssAfter - pssBefore) / n / 1000,
        });
        await Promise.all([first.close(), second.close()]);
      } finally {
        await server.stop();
      }
    }
  }
  return withRatios(rows, ["KB per connection", "PSS KB per connection"]);
}

/**
 * One subscriber each; publishing for `o.duration` s, either from a pool of `o.connections`
 * keep-alive connections with one request in flight on each (`pipelined` false: how producers
 * publish), or pipelined (8 connections x 16 requests in flight). The load comes from the C
 * publisher when there is a C compiler (bench/publisher.ts).
 */
export function runPublish(pipelined: boolean) {
  return async (o: Options): Promise<Row[]> => {
    const rows: Row[] = [];
    await withAll(o, 1, async (held) => {
      for (let run = 0; run < o.runs; run++) {
        for (const { target, server, pool } of held) {
          await pool.reset();
          const load = {
            connections: pipelined ? 8 : o.connections,
            depth: pipelined ? 16 : 1,
            durationMs: o.duration * 1000,
            size: o.size,
            first: nextSeq(10_000_000),
          };
          const m = await measured(server, pool, () => publishLoad(server, TOPIC, load));
          const value = m.value;
          await pool.progress(true);
          await waitFor(pool, value.ok, 3000);
          await pool.progress(false);
          const report = await pool.report(value.ok);
          const publisherMs = value.cpuMs ?? m.publisherCpuMs;
          rows.push({
            target: target.name,
            run,
            "publishes/s": value.ok / (value.elapsedMs / 1000),
            failed: value.failed,
            lost: report.lost,
            "dup/reorder": report.extra + report.disorder,
            "server µs/publish": (m.serverCpuMs * 1000) / Math.max(1, value.ok),
            "server kernel share %": (100 * m.serverSysMs) / Math.max(1, m.serverCpuMs),
            [`publisher (${value.client}) µs/publish`]: (publisherMs * 1000) / Math.max(1, value.ok),
            "answer p50 ms": value.p50Ms,
            "answer p99 ms": value.p99Ms,
          });
        }
      }
    });
    return withRatios(rows, ["publishes/s", "server µs/publish"]);
  };
}
