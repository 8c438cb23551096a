import type { Figures } from "../ops/figures.ts";

type Numeric = {
  [K in keyof Figures]: Figures[K] extends number ? K : never;
}[keyof Figures];

/**
 * Figures that every worker of a cluster holds for the one shared log rather than for its own
 * clients: each worker tails the whole log, so each counts every event. Summing them would count an
 * event once per worker; the cluster's figure is the largest worker's (a replaced worker starts at 0).
 */
const SHARED: ReadonlySet<Numeric> = new Set<Numeric>(["published", "historySize", "busLagSeconds"]);

/**
 * The figures of a whole cluster from those of its workers: per-client counters and gauges
 * (connections, delivered, dropped, ...) are summed; the shared-log figures (SHARED, and
 * `publishedByTopic`) are the largest worker's. Empty input gives all zeros.
 */
export function sumFigures(all: readonly Figures[]): Figures {
  const num = (key: Numeric) =>
    all.reduce((acc, f) => (SHARED.has(key) ? Math.max(acc, f[key]) : acc + f[key]), 0);
  const merge = <T extends string>(pick: (f: Figures) => Readonly<Record<T, number>>, max: boolean) => {
    const out: Record<string, number> = {};
    for (const f of all) {
      for (const [k, n] of Object.entries<number>(pick(f))) {
        out[k] = max ? Math.max(out[k] ?? 0, n) : (out[k] ?? 0) + n;
      }
    }
    return out;
  };
  return {
    connections: num("connections"),
    subscriptions: num("subscriptions"),
    published: num("published"),
    delivered: num("delivered"),
    dropped: num("dropped"),
    replayed: num("replayed"),
    slowDisconnects: num("slowDisconnects"),
    missedSignals: num("missedSignals"),
    connectionsOpened: num("connectionsOpened"),
    connectionsClosed: merge((f) => f.connectionsClosed, false) as Figures["connectionsClosed"],
    historySize: num("historySize"),
    busLagSeconds: num("busLagSeconds"),
    publishedByTopic: merge((f) => f.publishedByTopic, true),
  };
}
