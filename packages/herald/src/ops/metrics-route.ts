import type { IncomingMessage, ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import type { ClusterFigures } from "../cluster/figures.ts";
import { sendJson } from "../http/errors.ts";
import type { Figures } from "./figures.ts";

/**
 * `GET /metrics`: Prometheus text format. In a `--workers` worker (`cluster` set): every worker's
 * registry aggregated by the primary (src/server/cluster-figures.ts), whichever worker is asked.
 */
export async function handleMetrics(
  registry: Registry,
  _req: IncomingMessage,
  res: ServerResponse,
  cluster?: ClusterFigures,
) {
  const text = cluster === undefined ? await registry.metrics() : await cluster.metrics();
  res.writeHead(200, { "Content-Type": registry.contentType, "Cache-Control": "no-store" });
  res.end(text);
}

/**
 * `GET /status`: the same figures as JSON, for the demo page and scripts. Counters are totals since
 * start; a rate is the difference of two readings divided by the difference of their `time` (ms).
 * In a `--workers` worker (`cluster` set): the whole cluster's figures (docs/metrics.md says which
 * are summed), plus `workers` (how many answered) and `perWorker` (each one's own figures).
 */
export async function handleStatus(
  read: () => Figures,
  startedAt: number,
  _req: IncomingMessage,
  res: ServerResponse,
  cluster?: ClusterFigures,
) {
  const now = Date.now();
  const head = { time: now, uptimeSeconds: Math.round((now - startedAt) / 1000) };
  if (cluster === undefined) return sendJson(res, 200, { ...head, ...read() });
  const { workers, figures, perWorker } = await cluster.status();
  sendJson(res, 200, { ...head, ...figures, workers, perWorker });
}
