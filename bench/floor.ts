/**
 * The `floor` scenario: what this machine's kernel allows for the light-load latency target
 * (10,000 subscribers, 5 events/s, p99 < 50 ms), with no Herald and no Node in the way.
 *
 * Compiles bench/floor/writer.c and bench/floor/reader.c with `cc -O2` into a temp dir (no C
 * compiler: the scenario prints "skipped: no cc" and returns no rows), then per run: the writer
 * accepts 10,000 loopback connections from the reader (127.0.0.x source addresses, 5,000 each),
 * and P writer processes (1, then 2) write one ~200-byte SSE event to every socket, 25 broadcasts
 * at 5/s; the reader reads them all with epoll and computes publish->receive latency from the
 * CLOCK_MONOTONIC time in each event. Each run is checked: every delivery counted, none lost.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Options, Row } from "./scenarios.ts";
import { median } from "./stats.ts";

const SOURCES = fileURLToPath(new URL("./floor/", import.meta.url));
export const SUBSCRIBERS = 10_000;
export const EVENTS = 25;
export const RATE = 5;
export const PER_ADDRESS = 5_000;

interface WriterResult {
  /** Per broadcast: from the first process's start of its write loop to the last one's end. */
  loop_ms: number[];
  /** Per broadcast: from the due (publish) time to the end of the last write loop. */
  broadcast_ms: number[];
  writes: number;
  failed: number;
  user_ms: number;
  sys_ms: number;
}

export interface ReaderResult {
  received: number;
  lost: number;
  disorder: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Per broadcast: latency of its last delivery. */
  last_ms: number[];
  user_ms: number;
  sys_ms: number;
}

/** A child process whose stdout lines can be awaited by prefix. */
export class Proc {
  private readonly lines: string[] = [];
  private wake: (() => void) | undefined;
  private exited = false;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    let text = "";
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      text += chunk;
      const parts = text.split("\n");
      text = parts.pop() ?? "";
      this.lines.push(...parts);
      this.wake?.();
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => process.stdout.write(`  ${name}: ${chunk}`));
    child.once("exit", () => {
      this.exited = true;
      this.wake?.();
    });
  }

  /** The rest of the first line starting with `prefix`; rejects if the process exits first. */
  async line(prefix: string): Promise<string> {
    for (;;) {
      const found = this.lines.find((l) => l.startsWith(prefix));
      if (found !== undefined) return found.slice(prefix.length).trim();
      if (this.exited)
        throw new Error(`${this.name} exited (code ${this.child.exitCode}) before "${prefix}"`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}

/** Compiles the two programs; undefined if there is no C compiler. */
export function compileFloor(dir: string): { writer: string; reader: string } | undefined {
  if (spawnSync("cc", ["--version"]).error !== undefined) return undefined;
  const out = { writer: join(dir, "writer"), reader: join(dir, "reader") };
  for (const name of ["writer", "reader"] as const) {
    const cc = spawnSync("cc", ["-O2", "-o", out[name], join(SOURCES, `${name}.c`)], { encoding: "utf8" });
    if (cc.status !== 0) throw new Error(`cc failed on bench/floor/${name}.c: ${cc.stderr}`);
  }
  return out;
}

/** One run: `processes` writer processes broadcast to SUBSCRIBERS sockets of one reader. */
export async function floorOnce(
  bin: { writer: string; reader: string },
  processes: number,
  size: number,
): Promise<Row> {
  const timeoutS = EVENTS / RATE + 30;
  const writer = new Proc(
    "writer",
    spawn(bin.writer, [SUBSCRIBERS, processes, EVENTS, RATE, size].map(String), { stdio: "pipe" }),
  );
  let reader: Proc | undefined;
  const guard = setTimeout(
    () => {
      writer.kill();
      reader?.kill();
    },
    (timeoutS + 30) * 1000,
  );
  try {
    const port = await writer.line("port ");
    reader = new Proc(
      "reader",
      spawn(bin.reader, ["127.0.0.1", port, SUBSCRIBERS, EVENTS, PER_ADDRESS, timeoutS].map(String), {
        stdio: ["ignore", "pipe", "pipe"],
      }),
    );
    await reader.line("connected");
    writer.child.stdin?.end("go\n");
    const w = JSON.parse(await writer.line("result ")) as WriterResult;
    const r = JSON.parse(await reader.line("result ")) as ReaderResult;
    if (w.failed > 0) throw new Error(`${w.failed} writes failed`);
    return {
      subscribers: SUBSCRIBERS,
      workers: processes,
      deliveries: r.received,
      lost: r.lost,
      "dup/reorder": r.disorder,
      "write loop ms per broadcast": median(w.loop_ms),
      "slowest write loop ms": Math.max(...w.loop_ms),
      "writer CPU ms per broadcast": (w.user_ms + w.sys_ms) / EVENTS,
      "writer kernel µs per write": (w.sys_ms * 1000) / Math.max(1, w.writes),
      "writer CPU µs per write": ((w.user_ms + w.sys_ms) * 1000) / Math.max(1, w.writes),
      "p50 ms": r.p50_ms,
      "p99 ms": r.p99_ms,
      "last delivery ms (median broadcast)": median(r.last_ms),
      "reader µs/delivery": ((r.user_ms + r.sys_ms) * 1000) / Math.max(1, r.received),
    };
  } finally {
    clearTimeout(guard);
    writer.kill();
    reader?.kill();
  }
}

export async function runFloor(o: Options): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), "herald-floor-"));
  try {
    const bin = compileFloor(dir);
    if (bin === undefined) {
      console.log("skipped: no cc (a C compiler is needed to build bench/floor/*.c)");
      return [];
    }
    console.log("(workers = writer processes; no Herald: C writer and C epoll reader)");
    const rows: Row[] = [];
    for (let r = 0; r < o.runs; r++) {
      for (const processes of new Set([1, 2, o.workers])) rows.push(await floorOnce(bin, processes, o.size));
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
