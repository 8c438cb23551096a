import { type ChildProcess, spawn } from "node:child_process";
import { EventSource } from "eventsource";
import { freePort } from "./brokers.ts";
import { HERALD_BIN } from "./process.ts";
import { until } from "./waiters.ts";

/** One Herald node as a real child process (`herald`). */
export interface HeraldNode {
  readonly url: string;
  /** The process id (to SIGSTOP / SIGCONT it). */
  readonly pid: number;
  alive: boolean;
  readonly stderr: () => string;
  /** Everything it printed (stdout and stderr, up to 1 MB). */
  readonly output: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `herald` and waits until `/readyz` says ready (or only until it answers, with `ready: false`). */
export async function startNode(bus: string, extra: string[] = [], waitReady = true): Promise<HeraldNode> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      HERALD_BIN,
      ...["--port", String(port), "--host", "127.0.0.1", "--bus", bus],
      ...["--retry", "200ms", "--log-level", "warn", ...extra],
    ],
    {
      // anonymous publishing, no per-IP limits (every test client is 127.0.0.1), as in startTestHerald
      env: {
        ...process.env,
        HERALD_ALLOW_ANONYMOUS_PUBLISH: "true",
        HERALD_PUBLISH_RATE: "1000000",
        HERALD_PUBLISH_BURST: "1000000",
        HERALD_CONTROL_RATE: "1000000",
        HERALD_CONTROL_BURST: "1000000",
        HERALD_MAX_CONNECTIONS: "1000000",
        HERALD_MAX_CONNECTIONS_PER_IP: "1000000",
        HERALD_WORKERS: "1", // one process per node: a test that kills a node kills all of it
      },
      stdio: ["ignore", "pipe", "pipe"], // Herald logs on stdout (JSON lines, --log-level warn): the last of it explains a failure
    },
  );
  let stderr = "";
  let output = "";
  const keep = (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
    if (output.length < 1_000_000) output += chunk.toString();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const node: HeraldNode = {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    alive: true,
    stderr: () => stderr,
    output: () => output,
    async kill(signal = "SIGKILL") {
      node.alive = false;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill(signal);
      await exited;
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`herald exited: ${stderr}`);
    if (Date.now() > deadline) {
      await node.kill("SIGKILL"); // never leave it behind (its --workers stop when their primary is gone)
      throw new Error(`herald on ${port} not ready: ${stderr}`);
    }
    const status = await fetch(`${node.url}/readyz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200 || (!waitReady && status !== 0)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return node;
}

/**
 * An EventSource client pinned to one node, like a client behind a load balancer: when its node is
 * dead, its reconnects (with Last-Event-ID) go to the next live node.
 */
export class Client {
  readonly data: string[] = [];
  missed = 0;
  private readonly source: EventSource;

  constructor(nodes: readonly HeraldNode[], preferred: number, topic: string, type = "message") {
    const route = (input: string | URL): string => {
      const url = new URL(String(input));
      for (let i = 0; i < nodes.length; i++) {
        const node = nodes[(preferred + i) % nodes.length]!;
        if (node.alive) return `${node.url}${url.pathname}${url.search}`;
      }
      return String(input);
    };
    this.source = new EventSource(`${nodes[preferred]!.url}/events?topic=${encodeURIComponent(topic)}`, {
      fetch: (input, init) => fetch(route(input), init),
    });
    this.source.addEventListener(type, (event) => this.data.push(event.data));
    this.source.addEventListener("herald.missed", () => this.missed++);
  }

  open(): Promise<void> {
    return until(() => this.source.readyState === EventSource.OPEN, "client open");
  }

  close(): void {
    this.source.close();
  }
}

/** Publishes `data` to a node; true when it answered 2xx. */
export async function publishTo(node: HeraldNode, topic: string, data: string): Promise<boolean> {
  try {
    const response = await fetch(`${node.url}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ topic, data }),
    });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Checks the promise of the issue: every acknowledged event reached every client, none twice, and
 * every client saw them in one order.
 */
export async function expectAllDelivered(
  clients: readonly Client[],
  acked: readonly string[],
): Promise<void> {
  for (const client of clients) {
    await until(() => {
      const got = new Set(client.data);
      return acked.every((d) => got.has(d));
    }, `every acknowledged event on a client (has ${client.data.length}, acked ${acked.length})`);
  }
  const ackedSet = new Set(acked);
  const orders = clients.map((c) => c.data.filter((d) => ackedSet.has(d)));
  for (const [i, client] of clients.entries()) {
    if (new Set(client.data).size !== client.data.length) throw new Error(`client ${i} got a duplicate`);
    if (client.missed > 0) throw new Error(`client ${i} was told it missed events`);
    if (orders[i]!.join(",") !== orders[0]!.join(",")) throw new Error(`client ${i} saw another order`);
  }
}
