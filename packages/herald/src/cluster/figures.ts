import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, Gauge } from "prom-client";
import { HeraldError } from "../core/errors.ts";
import type { Figures } from "../ops/figures.ts";
import { sumFigures } from "./figures-sum.ts";

/**
 * The figures of a whole `--workers N` cluster for GET /status and GET /metrics (and the Mercure
 * subscriptions API's list of active subscribers), over node:cluster's
 * IPC (JSON), beside the ClusterBus messages (src/buses/cluster-wire.ts) and the shutdown ones:
 *
 * worker -> primary: `figures?` {rid, kind}: the worker serving the request asks;
 * primary -> every worker: `figures:collect` {cid, kind}; each answers `figures:mine` {cid, ...}
 * with its figures read at that moment (status) or its registry as JSON (metrics);
 * primary -> asking worker: `figures` {rid, workers, ...}: the sum (status) or prom-client's
 * aggregation (`AggregatorRegistry.aggregate`, metrics text).
 *
 * Staleness: none kept; every figure is read when asked. Bound: the primary waits at most
 * FIGURES_WAIT_MS for the workers; a worker that has not answered by then is left out, and
 * `workers` says how many answered. The asking worker gives up after FIGURES_WAIT_MS + 1 s (503).
 * prom-client's own cluster messages (`clusterMetrics()`, 5 s timeout, no partial answer) are not
 * used, so a dead or stuck worker cannot fail a scrape.
 */
export const FIGURES_WAIT_MS = 1000;

export type FiguresKind = "status" | "metrics" | "subscribers";

export type FiguresToPrimary =
  | { herald: "figures?"; rid: number; kind: FiguresKind }
  | {
      herald: "figures:mine";
      cid: number;
      pid: number;
      figures?: Figures;
      metrics?: object[];
      subscribers?: object[];
    };

export type FiguresToWorker =
  | { herald: "figures:collect"; cid: number; kind: FiguresKind }
  | ({ herald: "figures"; rid: number } & ClusterAnswer);

export interface ClusterStatus {
  /** Workers whose figures are in the sum. */
  readonly workers: number;
  readonly figures: Figures;
  /** Each answering worker's own figures, with its pid. */
  readonly perWorker: readonly (Figures & { pid: number })[];
}

type ClusterAnswer =
  | { kind: "status"; status: ClusterStatus }
  | { kind: "metrics"; text: string }
  | { kind: "subscribers"; subscribers: object[] }
  | { kind: "error"; message: string };

type Mine = Extract<FiguresToPrimary, { herald: "figures:mine" }>;

/** Primary side: answers the workers' `figures?` messages. Call once, in the node:cluster primary. */
export function serveClusterFigures(): void {
  let nextCid = 0;
  const pending = new Map<number, (mine: Mine) => void>();
  const collect = (kind: FiguresKind): Promise<Mine[]> => {
    const cid = nextCid++;
    const workers = Object.values(cluster.workers ?? {}).filter(
      (w): w is Worker => w?.isConnected() === true,
    );
    return new Promise((resolve) => {
      const got: Mine[] = [];
      const done = () => {
        clearTimeout(timer);
        pending.delete(cid);
        resolve(got);
      };
      const timer = setTimeout(done, FIGURES_WAIT_MS);
      pending.set(cid, (mine) => {
        got.push(mine);
        if (got.length === workers.length) done();
      });
      for (const worker of workers) worker.send({ herald: "figures:collect", cid, kind });
      if (workers.length === 0) done();
    });
  };
  const answer = async (kind: FiguresKind): Promise<ClusterAnswer> => {
    const got = (await collect(kind)).sort((a, b) => a.pid - b.pid);
    if (kind === "status") {
      const perWorker = got.flatMap((m) => (m.figures === undefined ? [] : [{ pid: m.pid, ...m.figures }]));
      const figures = sumFigures(perWorker);
      return { kind, status: { workers: perWorker.length, figures, perWorker } };
    }
    if (kind === "subscribers") return { kind, subscribers: got.flatMap((m) => m.subscribers ?? []) };
    // one list per worker registry (each is `getMetricsAsJSON()`)
    const lists = got.flatMap((m) => (m.metrics === undefined ? [] : [m.metrics]));
    const registry = AggregatorRegistry.aggregate(lists);
    new Gauge({
      name: "herald_cluster_workers",
      help: "Workers whose metrics are in this scrape (the others did not answer within 1 s)",
      registers: [registry],
    }).set(lists.length);
    return { kind, text: await registry.metrics() };
  };
  cluster.on("message", (worker: Worker, message: FiguresToPrimary) => {
    if (message?.herald === "figures:mine") pending.get(message.cid)?.(message);
    else if (message?.herald === "figures?") {
      void answer(message.kind).then(
        (result) => worker.isConnected() && worker.send({ herald: "figures", rid: message.rid, ...result }),
        (error: unknown) =>
          worker.isConnected() &&
          worker.send({ herald: "figures", rid: message.rid, kind: "error", message: String(error) }),
      );
    }
  });
}

/** How a worker talks to its primary: `process.send` and 'message' in production. */
export interface FiguresChannel {
  send(message: FiguresToPrimary): void;
  onMessage(listener: (message: FiguresToWorker) => void): void;
}

/** What a worker reads of itself when the primary collects. */
export interface LocalFigures {
  figures(): Figures;
  /** Its prom-client registry as `getMetricsAsJSON()`. */
  metrics(): Promise<object[]>;
  /** Its active Mercure subscribers (plain JSON objects), for the subscriptions API. */
  subscribers?(): object[];
}

/** Worker side: answers the primary's collects and asks it for the cluster's figures. */
export class ClusterFigures {
  private nextRid = 0;
  private readonly waiting = new Map<number, (answer: ClusterAnswer) => void>();
  private local: LocalFigures | undefined;

  constructor(private readonly channel: FiguresChannel) {
    channel.onMessage((message) => {
      if (message?.herald === "figures") this.waiting.get(message.rid)?.(message);
      else if (message?.herald === "figures:collect") void this.reply(message.cid, message.kind);
    });
  }

  /** Sets what this worker reports (startHerald calls it with its hub's figures and registry). */
  serve(local: LocalFigures): void {
    this.local = local;
  }

  status(): Promise<ClusterStatus> {
    return this.ask("status").then((a) => (a as Extract<ClusterAnswer, { kind: "status" }>).status);
  }

  metrics(): Promise<string> {
    return this.ask("metrics").then((a) => (a as Extract<ClusterAnswer, { kind: "metrics" }>).text);
  }

  /** Every worker's active Mercure subscribers (those that answered within the bound). */
  subscribers(): Promise<object[]> {
    return this.ask("subscribers").then(
      (a) => (a as Extract<ClusterAnswer, { kind: "subscribers" }>).subscribers,
    );
  }

  private async reply(cid: number, kind: FiguresKind) {
    const local = this.local;
    const pid = process.pid;
    // not started yet, or the registry failed: an empty answer (left out of the sum, not waited for)
    if (local === undefined) return this.channel.send({ herald: "figures:mine", cid, pid });
    if (kind === "status") this.channel.send({ herald: "figures:mine", cid, pid, figures: local.figures() });
    else if (kind === "subscribers") {
      this.channel.send({ herald: "figures:mine", cid, pid, subscribers: local.subscribers?.() ?? [] });
    } else {
      const metrics = await local.metrics().catch(() => undefined);
      this.channel.send({ herald: "figures:mine", cid, pid, metrics });
    }
  }

  private ask(kind: FiguresKind): Promise<ClusterAnswer> {
    const rid = this.nextRid++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(rid);
        reject(
          new HeraldError(
            "unavailable",
            "the cluster primary did not answer for the cluster's figures; retry",
            {
              retryAfterSeconds: 1,
            },
          ),
        );
      }, FIGURES_WAIT_MS + 1000);
      this.waiting.set(rid, (answer) => {
        clearTimeout(timer);
        this.waiting.delete(rid);
        if (answer.kind === "error") {
          reject(
            new HeraldError(
              "internal",
              `the cluster primary could not combine the figures: ${answer.message}`,
            ),
          );
        } else resolve(answer);
      });
      this.channel.send({ herald: "figures?", rid, kind });
    });
  }
}
