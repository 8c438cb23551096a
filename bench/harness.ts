/**
 * The benchmark's moving parts, seen from bench/run.ts: the Herald server (a child process running
 * `herald`), a pool of load-generator processes (bench/loadgen.ts) and the publisher.
 */
import { type ChildProcess, fork, spawn } from "node:child_process";
import { Agent, request } from "node:http";
import { createServer } from "node:net";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { treeCpuMs, treePss, treeRss } from "./proc.ts";
import { BUCKETS, mergeHist } from "./stats.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const HOST = "127.0.0.1";
/** Sockets per load-generator process: under the 20,000 open files a process may have here. */
export const MAX_PER_LOADGEN = 17_000;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, HOST, () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** The HS256 key every bench server verifies tokens with (a scenario with identities mints them). */
export const BENCH_JWT_SECRET = "herald-bench-secret-not-for-production";

/** The bench publishes anonymously and from few addresses: lift the per-IP and rate limits (docs/limits.md). */
const BENCH_LIMITS = [
  "--jwt-secret",
  BENCH_JWT_SECRET,
  "--allow-anonymous-publish",
  "true",
  "--max-connections",
  "1000000",
  "--max-connections-per-ip",
  "1000000",
  "--publish-rate",
  "1000000",
  "--publish-burst",
  "1000000",
  // thousands of streams open at once on a shared machine: the slow-loris cut-off (10 s) is lifted
  "--headers-timeout",
  "60s",
  "--request-timeout",
  "60s",
];

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What a hub under test is: Herald (`startServer`) or the nginx + nchan reference (bench/nchan.ts). */
export interface ServerHandle {
  /** Printed beside its figures: "herald, 1 process", "herald, 2 workers", "nchan". */
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  /** The comment a new stream starts with (the load generator counts a subscriber once it is read). */
  readonly opened: string;
  /** The HTTP request that publishes `data` (the event's `data:` line, as is) on `topic`. */
  publishRequest(topic: string, data: string): PublishRequest;
  cpuMs(): number;
  /** The kernel (system) part of `cpuMs`. */
  sysMs(): number;
  rss(): number;
  /** Proportional set size: shared pages (nginx's shared memory, node's code) counted once. */
  pss(): number;
  stop(): Promise<void>;
}

export interface PublishRequest {
  path: string;
  contentType: string;
  body: string;
}

/** Herald's publish: `POST /publish` with `{"topic", "data"}` (data a string: it goes out as is). */
export function heraldPublish(topic: string, data: string): PublishRequest {
  return { path: "/publish", contentType: "application/json", body: JSON.stringify({ topic, data }) };
}

/**
 * The `herald` command the bench starts: this checkout's build, or `HERALD_BENCH_BIN` (the
 * `bin/herald.js` of another build, to compare two versions with the same bench; read at each start).
 */
const heraldBin = () => process.env.HERALD_BENCH_BIN ?? "packages/herald/bin/herald.js";

/** Starts `herald` with `args` (and `nodeArgs` for node itself) and waits until /readyz answers 200. */
export async function startServer(args: string[], nodeArgs: string[] = []): Promise<ServerHandle> {
  const port = await freePort();
  // info level for the one line "all workers listening"; only warnings and errors are printed
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      heraldBin(),
      "--port",
      String(port),
      "--host",
      HOST,
      "--log-level",
      "info",
      ...BENCH_LIMITS,
      ...args,
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  // stderr: nothing from Herald itself (its log is on stdout); Node or a crash might write there
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    for (const line of chunk.split("\n")) {
      if (line !== "" && !/UNSAFE|received, shutting down/.test(line)) console.log(`  server: ${line}`);
    }
  });
  let allListening = false;
  let text = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    text += chunk;
    const lines = text.split("\n");
    text = lines.pop() ?? "";
    for (const line of lines) {
      if (line.includes('"all workers listening"')) allListening = true;
      else if (/"level":"(warn|error|fatal)"/.test(line) && !line.includes("UNSAFE"))
        console.log(`  server: ${line}`);
    }
  });
  const workersAt = args.indexOf("--workers");
  const clustered = workersAt !== -1 && Number(args[workersAt + 1]) > 1;
  const url = `http://${HOST}:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`herald exited with code ${child.exitCode}`);
    const status = await fetch(`${url}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200 && (!clustered || allListening)) break;
    if (Date.now() > deadline) throw new Error("herald did not become ready in 30 s");
    await sleep(100);
  }
  const pid = child.pid as number;
  const workers = workersAt === -1 ? 1 : Number(args[workersAt + 1]);
  return {
    name: workers > 1 ? `herald, ${workers} workers` : "herald, 1 process",
    pid,
    port,
    url,
    opened: ": ok",
    publishRequest: heraldPublish,
    cpuMs: () => treeCpuMs(pid),
    sysMs: () => treeCpuMs(pid, true),
    rss: () => treeRss(pid),
    pss: () => treePss(pid),
    stop: () => stopChild(child),
  };
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

interface Report {
  received: number;
  lost: number;
  extra: number;
  disorder: number;
  closed: number;
  hist: number[];
  cpuMs: number;
}

/** One load-generator process. */
class LoadGen {
  private readonly waiting = new Map<string, (message: Record<string, unknown>) => void>();
  received = 0;

  constructor(readonly child: ChildProcess) {
    child.on("message", (message: Record<string, unknown>) => {
      if (message.type === "progress") {
        this.received = message.received as number;
        return;
      }
      const resolve = this.waiting.get(message.type as string);
      this.waiting.delete(message.type as string);
      resolve?.(message);
    });
  }

  ask<T>(command: Record<string, unknown>, answer: string): Promise<T> {
    return new Promise((resolve) => {
      this.waiting.set(answer, resolve as (message: Record<string, unknown>) => void);
      this.child.send(command);
    });
  }
}

export interface PoolReport {
  received: number;
  lost: number;
  extra: number;
  disorder: number;
  closed: number;
  hist: Float64Array;
  cpuMs: number;
}

/** Load generators holding `total` subscribers between them (each process under MAX_PER_LOADGEN). */
export class LoadPool {
  private constructor(private readonly gens: LoadGen[]) {}

  static async open(
    server: ServerHandle,
    total: number,
    path: string,
    processes = Math.max(1, Math.ceil(total / MAX_PER_LOADGEN)),
  ): Promise<LoadPool> {
    const gens: LoadGen[] = [];
    for (let i = 0; i < processes; i++) {
      const child = fork(fileURLToPath(new URL("./loadgen.ts", import.meta.url)), [], {
        execArgv: ["--import", "tsx"],
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      const gen = new LoadGen(child);
      await new Promise<void>((resolve) => child.once("message", () => resolve()));
      gens.push(gen);
    }
    const pool = new LoadPool(gens);
    const share = Math.ceil(total / processes);
    const results = await Promise.all(
      gens.map((gen, i) =>
        gen.ask<{ ok: number; failed: number; error?: string }>(
          {
            type: "connect",
            host: HOST,
            port: server.port,
            count: Math.max(0, Math.min(share, total - i * share)),
            first: i * share,
            perAddress: 5000,
            path,
            opened: server.opened,
          },
          "connected",
        ),
      ),
    );
    const ok = results.reduce((sum, r) => sum + r.ok, 0);
    if (ok !== total) {
      await pool.close();
      const error = results.find((r) => r.error !== undefined)?.error;
      throw new Error(`only ${ok} of ${total} subscribers connected (${error ?? "no error"})`);
    }
    return pool;
  }

  get pids(): number[] {
    return this.gens.map((gen) => gen.child.pid as number);
  }

  cpuMs(): number {
    return this.pids.reduce((sum, pid) => sum + treeCpuMs(pid), 0);
  }

  rss(): number {
    return this.pids.reduce((sum, pid) => sum + treeRss(pid), 0);
  }

  /** Total events received since the last reset (updated every 20 ms while progress is on). */
  get received(): number {
    return this.gens.reduce((sum, gen) => sum + gen.received, 0);
  }

  async progress(on: boolean): Promise<void> {
    for (const gen of this.gens) {
      gen.received = 0;
      gen.child.send({ type: "progress", on });
    }
  }

  async reset(): Promise<void> {
    await Promise.all(this.gens.map((gen) => gen.ask({ type: "reset" }, "reset")));
    for (const gen of this.gens) gen.received = 0;
  }

  /** Sums the generators' reports; `expected` = events each subscriber should have received. */
  async report(expected: number): Promise<PoolReport> {
    const reports = await Promise.all(
      this.gens.map((gen) => gen.ask<Report>({ type: "report", expected }, "report")),
    );
    const hist = new Float64Array(BUCKETS);
    for (const r of reports) mergeHist(hist, r.hist);
    const sum = (key: "received" | "lost" | "extra" | "disorder" | "closed" | "cpuMs") =>
      reports.reduce((total, r) => total + r[key], 0);
    return {
      received: sum("received"),
      lost: sum("lost"),
      extra: sum("extra"),
      disorder: sum("disorder"),
      closed: sum("closed"),
      hist,
      cpuMs: sum("cpuMs"),
    };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.gens.map(
        (gen) =>
          new Promise<void>((resolve) => {
            gen.child.once("exit", () => resolve());
            gen.child.send({ type: "close" });
          }),
      ),
    );
  }
}

/** The publisher's clock, comparable with the load generators' (same machine). */
export const clock = () => performance.timeOrigin + performance.now();

/** `{"s":seq,"t":ms,"p":"xxx"}`: padded so the encoded event is about `size` bytes. */
const PAD = "x".repeat(65_536);
export function eventData(seq: number, size: number): string {
  const head = `{"s":${seq},"t":${clock().toFixed(3)},"p":"`;
  const pad = Math.max(0, size - head.length - 2 - 24); // ~24 bytes of "id: ...\ndata: \n\n"
  return `${head}${PAD.slice(0, pad)}"}`;
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/** POSTs JSON over a keep-alive connection; resolves with the status and body. */
export function postJson(url: string, body: unknown): Promise<{ status: number; text: string }> {
  return post(url, "application/json", JSON.stringify(body));
}

/** POSTs `payload` over a keep-alive connection; resolves with the status and body. */
export function post(
  url: string,
  contentType: string,
  payload: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: { "content-type": contentType, "content-length": Buffer.byteLength(payload) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** Publishes one benchmark event (its data is a JSON text that goes out as is); any 2xx is success. */
export async function publishEvent(server: ServerHandle, topic: string, seq: number, size: number) {
  const { path, contentType, body } = server.publishRequest(topic, eventData(seq, size));
  const send = () => post(`${server.url}${path}`, contentType, body);
  // a keep-alive socket the server closed as idle (5 s) just as it was reused: nothing was processed
  const result = await send().catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ECONNRESET") throw error;
    return send();
  });
  if (result.status < 200 || result.status > 299)
    throw new Error(`${server.name}: publish answered ${result.status}: ${result.text}`);
}
