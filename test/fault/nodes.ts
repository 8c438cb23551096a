import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { freePort } from "../helpers/brokers.ts";
import { HERALD_BIN } from "../helpers/process.ts";
import { TEST_SECRET } from "../helpers/tokens.ts";

export const FIGURES = ["slowDisconnects", "missedSignals", "replayed"] as const;
export type FigureName = (typeof FIGURES)[number];

/** Settings every node of a fault run gets (the same on every node, as docs/buses.md asks). */
export interface NodeSettings {
  /** `--bus` value. */
  readonly bus: string;
  /** `--workers` (1: one process). */
  readonly workers: number;
  /** `--history-size`: small, so bursts outrun it (and the Redis stream's MAXLEN) quickly. */
  readonly historySize: number;
  /** `--max-buffered`: small, so a slow reader is cut off within a burst. */
  readonly maxBuffered: string;
}

/**
 * One Herald node of a fault run: `herald` as a child process on a fixed port (a
 * restart takes the same one), with the faults the schedule injects: SIGSTOP/SIGCONT, SIGKILL and
 * restart, and (with `--workers`) the same on one worker. Every process it starts it stops by pid.
 */
export class FaultNode {
  private child: ChildProcess | undefined;
  private stderr = "";
  /** running: serving; stopped: SIGSTOPped; dead: killed, not restarted yet. */
  state: "running" | "stopped" | "dead" = "dead";
  /** Worker pids last seen in /status (workers mode), so teardown can stop them even if orphaned. */
  private workerPids = new Set<number>();

  private constructor(
    readonly index: number,
    readonly port: number,
    private readonly settings: NodeSettings,
  ) {}

  static async start(index: number, settings: NodeSettings): Promise<FaultNode> {
    const node = new FaultNode(index, await freePort(), settings);
    await node.restart();
    return node;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Whether a load balancer would send a new connection here. */
  get serving(): boolean {
    return this.state === "running";
  }

  output(): string {
    return this.stderr;
  }

  /** Starts the process (again) and waits until it is ready. */
  async restart(): Promise<void> {
    const s = this.settings;
    const child = spawn(
      process.execPath,
      [
        HERALD_BIN,
        ...["--port", String(this.port), "--host", "127.0.0.1", "--bus", s.bus],
        ...["--workers", String(s.workers), "--retry", "200ms", "--log-level", "warn"],
        ...["--history-size", String(s.historySize), "--max-buffered", s.maxBuffered, "--max-body", "16MiB"],
      ],
      {
        env: {
          ...process.env,
          HERALD_JWT_SECRET: TEST_SECRET,
          HERALD_ALLOW_ANONYMOUS_PUBLISH: "true",
          HERALD_PUBLISH_RATE: "100000000",
          HERALD_PUBLISH_BURST: "100000000",
          HERALD_CONTROL_RATE: "100000000",
          HERALD_CONTROL_BURST: "100000000",
          HERALD_MAX_CONNECTIONS: "1000000",
          HERALD_MAX_CONNECTIONS_PER_IP: "1000000",
        },
        stdio: ["ignore", "pipe", "pipe"], // Herald logs on stdout (JSON lines, --log-level warn): the last of it explains a failure
      },
    );
    this.child = child;
    const keep = (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.state = "running";
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`herald node ${this.index} exited: ${this.stderr}`);
      if (Date.now() > deadline) {
        await this.kill(); // not left behind: the caller has no node to close
        throw new Error(`herald node ${this.index} not ready within 60 s: ${this.stderr}`);
      }
      if (
        (await this.status("/readyz")) === 200 &&
        (s.workers === 1 || (await this.pids()).length === s.workers)
      )
        return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Whether /readyz answers 200 (a load balancer's health check would send it traffic). */
  async ready(): Promise<boolean> {
    return (await this.status("/readyz")) === 200;
  }

  /**
   * Why this node is not ready: /readyz's reason (503), "not answering", or "stopped"/"dead"
   * (the fault injected); undefined when it answers 200.
   */
  async notReady(): Promise<string | undefined> {
    if (this.state !== "running") return this.state;
    try {
      const response = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(5000) });
      const body = (await response.json().catch(() => ({}))) as { reason?: unknown };
      return response.status === 200 ? undefined : `${response.status} ${String(body.reason ?? "")}`;
    } catch {
      return "not answering";
    }
  }

  private async status(path: string): Promise<number> {
    try {
      const response = await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(5000) });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 0;
    }
  }

  /** The worker pids /status reports (workers mode), [] when it does not answer. */
  async pids(): Promise<number[]> {
    try {
      const response = await fetch(`${this.url}/status`, { signal: AbortSignal.timeout(5000) });
      const body = (await response.json()) as { perWorker?: { pid: number }[] };
      const pids = (body.perWorker ?? []).map((w) => w.pid);
      for (const pid of pids) this.workerPids.add(pid);
      return pids;
    } catch {
      return [];
    }
  }

  /** Figures of earlier lives of this node (its counters restart with it), added up before each kill. */
  private readonly carried: Record<FigureName, number> = {
    slowDisconnects: 0,
    missedSignals: 0,
    replayed: 0,
  };

  /** Server-side counters (`/status`) over every life of this node, best effort (0 when unanswered). */
  async figures(): Promise<Record<FigureName, number>> {
    const now = { ...this.carried };
    if (this.state !== "running") return now;
    try {
      const response = await fetch(`${this.url}/status`, { signal: AbortSignal.timeout(2000) });
      const body = (await response.json()) as Record<string, unknown>;
      for (const name of FIGURES) now[name] += Number(body[name] ?? 0);
    } catch {
      // not answering: what earlier lives counted
    }
    return now;
  }

  stop(): void {
    if (this.state !== "running") return;
    this.child?.kill("SIGSTOP");
    this.state = "stopped";
  }

  resume(): void {
    if (this.state !== "stopped") return;
    this.child?.kill("SIGCONT");
    this.state = "running";
  }

  /** SIGKILL (a crash); resolves once the process is gone. */
  async kill(): Promise<void> {
    Object.assign(this.carried, await this.figures());
    const child = this.child;
    this.state = "dead";
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }

  /** Sends `signal` to one worker (workers mode) by its pid; the primary starts a replacement after a kill. */
  async signalWorker(worker: number, signal: NodeJS.Signals): Promise<number | undefined> {
    const pids = await this.pids();
    const pid = pids[worker % Math.max(1, pids.length)];
    if (pid === undefined) return undefined;
    try {
      process.kill(pid, signal);
    } catch {
      return undefined;
    }
    return pid;
  }

  /** Stops everything this node started: the process (SIGCONT first if stopped) and any worker left. */
  async close(): Promise<void> {
    if (this.state === "stopped") this.resume();
    await this.kill();
    for (const pid of this.workerPids) {
      // only a process that is still this node's worker (a pid may have been reused since)
      let cmdline = "";
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      } catch {
        continue; // already gone
      }
      if (cmdline.includes("herald.js") && cmdline.includes(`\0${this.port}\0`)) process.kill(pid, "SIGKILL");
    }
  }
}
