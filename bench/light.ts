/**
 * The `light` scenario (issues 2, 6, 14): 10,000 subscribers, 25 events of ~200 B at 5/s, on 1
 * worker then on N, each run beside the machine's floor measured in the same run (bench/floor.ts:
 * a C writer with as many processes as Herald has workers, and the C epoll reader).
 *
 * Per run and worker count, one after the other on the same cores:
 * - `herald, W worker(s)`: Herald's subscribers are the floor's own C reader (bench/floor/reader.c
 *   with a request path), so Herald and the floor are read by the same client, at the same cost:
 *   the ratio compares the writers only. The target: p99 within 1.1x of the floor's.
 * - `floor, W writer(s)`: the C writer and the same reader.
 * - `herald, W worker(s), node loadgen`: the same Herald read by the Node load generator
 *   (bench/loadgen.ts, as before issue 14): the difference to the row above is the client's share.
 * Ratio rows `<herald row> / floor` divide p50 and p99 by the floor's of the same run.
 * Without a C compiler only the Node load generator rows are measured.
 */

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  compileFloor,
  EVENTS,
  floorOnce,
  PER_ADDRESS,
  Proc,
  RATE,
  type ReaderResult,
  SUBSCRIBERS,
} from "./floor.ts";
import { clock, HOST, LoadPool, publishEvent, type ServerHandle, sleep, startServer } from "./harness.ts";
import { nextSeq, PATH, paced, TOPIC } from "./load.ts";
import type { Options, Row } from "./scenarios.ts";
import { median } from "./stats.ts";

/** Marks the ratio rows of this scenario (bench/run.ts gathers them into the closing summary). */
export const FLOOR_RATIO = " / floor";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Herald read by the C reader: EVENTS events at RATE/s to SUBSCRIBERS streams. */
async function heraldWithReader(readerBin: string, server: ServerHandle, size: number): Promise<Row> {
  const timeoutS = EVENTS / RATE + 30;
  const args = [HOST, server.port, SUBSCRIBERS, EVENTS, PER_ADDRESS, timeoutS, PATH].map(String);
  const reader = new Proc("reader", spawn(readerBin, args, { stdio: ["ignore", "pipe", "pipe"] }));
  const guard = setTimeout(() => reader.kill(), (timeoutS + 60) * 1000);
  try {
    await reader.line("connected");
    await sleep(500); // the workers' turn after the last stream opened
    const seq0 = nextSeq(EVENTS);
    const started = clock();
    const serverBefore = server.cpuMs();
    const sysBefore = server.sysMs();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const wait = started + (i * 1000) / RATE - clock();
      if (wait > 0) await sleep(wait);
      pending.push(publishEvent(server, TOPIC, seq0 + i, size));
    }
    await Promise.all(pending);
    const r = JSON.parse(await reader.line("result ")) as ReaderResult;
    const serverMs = server.cpuMs() - serverBefore;
    return {
      deliveries: r.received,
      lost: r.lost,
      "dup/reorder": r.disorder,
      "p50 ms": r.p50_ms,
      "p99 ms": r.p99_ms,
      "last delivery ms (median broadcast)": median(r.last_ms),
      "slowest broadcast's last delivery ms": Math.max(...r.last_ms),
      "server µs/delivery": (serverMs * 1000) / Math.max(1, r.received),
      "server kernel share %": (100 * (server.sysMs() - sysBefore)) / Math.max(1, serverMs),
      "reader µs/delivery": ((r.user_ms + r.sys_ms) * 1000) / Math.max(1, r.received),
    };
  } finally {
    clearTimeout(guard);
    reader.kill();
  }
}

/** `rows` plus, for each Herald row, `<target> / floor`: its p50 and p99 over the floor's of the same run. */
function withFloorRatios(rows: Row[]): Row[] {
  const out = [...rows];
  for (const row of rows) {
    if (String(row.target).startsWith("floor")) continue;
    const floor = rows.find(
      (r) => String(r.target).startsWith("floor") && r.run === row.run && r.workers === row.workers,
    );
    if (floor === undefined) continue;
    out.push({
      target: `${row.target}${FLOOR_RATIO}`,
      run: row.run as number,
      "p50 ms": (row["p50 ms"] as number) / (floor["p50 ms"] as number),
      "p99 ms": (row["p99 ms"] as number) / (floor["p99 ms"] as number),
    });
  }
  return out;
}

export async function runLight(o: Options): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), "herald-light-"));
  const rows: Row[] = [];
  try {
    const bin = compileFloor(dir);
    if (bin === undefined) console.log("  no cc: Herald with the Node load generator only, no floor");
    for (const workers of new Set([1, o.workers])) {
      const name = `herald, ${plural(workers, "worker")}`;
      const server = await startServer(["--workers", String(workers)]);
      try {
        for (let run = 0; run < o.runs; run++) {
          if (bin !== undefined) {
            rows.push({
              target: name,
              run,
              workers,
              ...(await heraldWithReader(bin.reader, server, o.size)),
            });
            const floor = await floorOnce(bin, workers, o.size);
            rows.push({ ...floor, target: `floor, ${plural(workers, "writer")}`, run, workers });
          }
          const pool = await LoadPool.open(server, SUBSCRIBERS, PATH);
          try {
            const row = await paced(pool, server, SUBSCRIBERS, EVENTS, RATE, o.size, nextSeq(EVENTS));
            rows.push({ target: `${name}, node loadgen`, run, workers, ...row });
          } finally {
            await pool.close();
          }
        }
      } finally {
        await server.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return withFloorRatios(rows);
}
