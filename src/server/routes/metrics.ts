import type { IncomingMessage, ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import type { Figures } from "../figures.ts";
import { sendJson } from "../http-errors.ts";

/** `GET /metrics`: Prometheus text format. */
export async function handleMetrics(registry: Registry, _req: IncomingMessage, res: ServerResponse) {
  const text = await registry.metrics();
  res.writeHead(200, { "Content-Type": registry.contentType, "Cache-Control": "no-store" });
  res.end(text);
}

/**
 * `GET /status`: the same figures as JSON, for the demo page and scripts. Counters are totals since
 * start; a rate is the difference of two readings divided by the difference of their `time` (ms).
 */
export function handleStatus(
  read: () => Figures,
  startedAt: number,
  _req: IncomingMessage,
  res: ServerResponse,
) {
  const now = Date.now();
  sendJson(res, 200, { time: now, uptimeSeconds: Math.round((now - startedAt) / 1000), ...read() });
}
