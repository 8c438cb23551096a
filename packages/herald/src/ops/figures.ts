import type { Bus } from "../core/bus.ts";
import type { Hub } from "../core/hub.ts";
import type { CloseReason } from "../core/subscriber.ts";

/** The hub's figures at one instant: what GET /status answers and GET /metrics exports. */
export interface Figures {
  /** Open SSE streams. */
  readonly connections: number;
  /** Topic selectors over all open streams. */
  readonly subscriptions: number;
  /** Events stored and delivered on this node since start (the "in" rate's counter). */
  readonly published: number;
  /** Event writes to subscribers (one event to 3 subscribers counts 3; the "out" rate's counter). */
  readonly delivered: number;
  /** Events (and queued heartbeats) thrown away when a slow client was cut off. */
  readonly dropped: number;
  /** Events sent by Last-Event-ID replays. */
  readonly replayed: number;
  readonly slowDisconnects: number;
  /** herald.missed events sent (a resume that was not possible, or a gap in the bus). */
  readonly missedSignals: number;
  readonly connectionsOpened: number;
  readonly connectionsClosed: Readonly<Record<CloseReason, number>>;
  /** Events the history holds for replay. */
  readonly historySize: number;
  /** How far this node's bus tail is behind, in seconds (0 for the memory bus). */
  readonly busLagSeconds: number;
  /** Events published per topic, for the topics of HERALD_METRICS_TOPICS only. */
  readonly publishedByTopic: Readonly<Record<string, number>>;
}

/** `openStreams`: the open streams of every protocol (Herald's API, the seed's, Mercure's). */
export function readFigures(hub: Hub, bus: Bus, openStreams: { readonly size: number }): Figures {
  const c = hub.counters;
  return {
    connections: openStreams.size,
    subscriptions: hub.selectorCount,
    published: c.published,
    delivered: c.delivered,
    dropped: c.dropped,
    replayed: c.replayed,
    slowDisconnects: c.slowDisconnects,
    missedSignals: c.missedSignals,
    connectionsOpened: c.subscribed,
    connectionsClosed: { ...c.closed },
    historySize: bus.historySize(),
    busLagSeconds: bus.lagSeconds?.() ?? 0,
    publishedByTopic: Object.fromEntries(c.byTopic),
  };
}
