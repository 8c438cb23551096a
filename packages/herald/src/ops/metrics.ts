import { type Aggregator, Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { Figures } from "./figures.ts";

/**
 * Herald's Prometheus metrics (prom-client), in a Registry of its own: the hub's figures, read at
 * scrape time, plus prom-client's default process metrics (CPU, memory, event loop lag, handles).
 * Labels are bounded: `reason` on closed connections (five values), and `topic` only for the topics
 * an operator lists in HERALD_METRICS_TOPICS; no label per client. Names and meanings: docs/metrics.md.
 */
export function createMetrics(read: () => Figures): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // `aggregator` is how the primary of `--workers N` combines the workers' values (prom-client's
  // AggregatorRegistry, src/server/cluster-figures.ts): summed, except the figures of the one log
  // that every worker tails (each counts every event): the largest worker's (docs/metrics.md).
  const gauge = (name: string, help: string, value: (f: Figures) => number, aggregator: Aggregator = "sum") =>
    new Gauge({
      name,
      help,
      aggregator,
      registers: [registry],
      collect() {
        this.set(value(read()));
      },
    });
  const counter = (
    name: string,
    help: string,
    value: (f: Figures) => number,
    aggregator: Aggregator = "sum",
  ) =>
    new Counter({
      name,
      help,
      aggregator,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(value(read()));
      },
    });
  gauge("herald_connections", "Open SSE streams", (f) => f.connections);
  gauge("herald_subscriptions", "Topic selectors over all open SSE streams", (f) => f.subscriptions);
  gauge(
    "herald_history_size",
    "Events the history holds for Last-Event-ID replay",
    (f) => f.historySize,
    "max",
  );
  gauge(
    "herald_bus_lag_seconds",
    "How far this node's bus tail is behind the log head",
    (f) => f.busLagSeconds,
    "max",
  );
  counter(
    "herald_events_published_total",
    "Events stored and delivered on this node",
    (f) => f.published,
    "max",
  );
  counter(
    "herald_events_delivered_total",
    "Event writes to subscribers (one event to 3 subscribers counts 3)",
    (f) => f.delivered,
  );
  counter(
    "herald_events_dropped_total",
    "Queued events (and heartbeats) thrown away when a slow client was cut off",
    (f) => f.dropped,
  );
  counter("herald_events_replayed_total", "Events sent by Last-Event-ID replays", (f) => f.replayed);
  counter(
    "herald_slow_disconnects_total",
    "Streams cut off because the client read too slowly",
    (f) => f.slowDisconnects,
  );
  counter(
    "herald_missed_signals_total",
    "herald.missed events sent (a resume not possible, or a gap in the bus)",
    (f) => f.missedSignals,
  );
  counter("herald_connections_opened_total", "SSE streams opened", (f) => f.connectionsOpened);
  new Counter({
    name: "herald_connections_closed_total",
    help: "SSE streams closed, by reason",
    labelNames: ["reason"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(read().connectionsClosed)) this.inc({ reason }, n);
    },
  });
  new Counter({
    name: "herald_topic_events_published_total",
    help: "Events published, per topic, for the topics listed in HERALD_METRICS_TOPICS only",
    labelNames: ["topic"],
    aggregator: "max",
    registers: [registry],
    collect() {
      this.reset();
      for (const [topic, n] of Object.entries(read().publishedByTopic)) this.inc({ topic }, n);
    },
  });
  return registry;
}
