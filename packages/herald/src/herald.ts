import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ConnectionLimiter } from "./access/connection-limiter.ts";
import { Limits, type SharedLimits } from "./access/limits.ts";
import { CONTROL_RATE_NAMES, RateLimiter } from "./access/rate-limiter.ts";
import { Access } from "./access/request-access.ts";
import { handleDeleteCookie, handleSetCookie } from "./api/auth-cookie.ts";
import { eventsRoute, HERALD_STREAMS } from "./api/events.ts";
import { hostPublish } from "./api/host-publish.ts";
import { handlePublish } from "./api/publish.ts";
import { handlePublishBatch } from "./api/publish-batch.ts";
import { handleBroadcast, seedStreamRoute } from "./api/seed.ts";
import { StreamControl } from "./api/stream-control.ts";
import { streamCredential, streamsRoute, ticketsRoute } from "./api/stream-routes.ts";
import { JwtAuthorizer } from "./auth/index.ts";
import { checkKeySettings, logDevToken, setupAuth } from "./auth/setup.ts";
import { createBus, redactBusUrl } from "./buses/index.ts";
import type { ClusterFigures } from "./cluster/figures.ts";
import type { HeraldConfig } from "./config/settings.ts";
import type { Authorizer, Principal } from "./core/auth.ts";
import type { Bus } from "./core/bus.ts";
import { DEFAULT_PUBLISH_LIMITS, type PublishInput } from "./core/event.ts";
import { Hub, type PublishResult } from "./core/hub.ts";
import { parseSelector } from "./core/topic.ts";
import { boundAddress } from "./http/bound-address.ts";
import { onClientError } from "./http/client-errors.ts";
import { Cors } from "./http/cors.ts";
import { InFlight } from "./http/in-flight.ts";
import { inTurn } from "./http/in-turn.ts";
import { LEAN_ROUTES, serveLean } from "./http/lean-front.ts";
import { refuseConnect, refuseExpectation } from "./http/node-refusals.ts";
import { serve } from "./http/serve.ts";
import { SOCKET_HIGH_WATER_MARK, type SseConnection } from "./http/sse/connection.ts";
import { Streams } from "./http/sse/open-stream.ts";
import { createMercure, MERCURE_PATH, type MercureMount } from "./mercure/index.ts";
import type { ActiveSubscriber } from "./mercure/subscriptions.ts";
import { startDemoFeed } from "./ops/demo.ts";
import { readFigures } from "./ops/figures.ts";
import { handleHealth, readinessRoute } from "./ops/health.ts";
import { createLogger, type Logger } from "./ops/logger.ts";
import { createMetrics } from "./ops/metrics.ts";
import { handleMetrics, handleStatus } from "./ops/metrics-route.ts";
import { handleOpenApi } from "./ops/openapi-route.ts";
import { handlePage } from "./ops/page.ts";
import { addPresenceMetrics } from "./ops/presence-metrics.ts";
import type { PresenceChannel } from "./presence/channel.ts";
import { presenceRoute } from "./presence/route.ts";
import { startPresence } from "./presence/setup.ts";
import { routes } from "./routes.ts";

export interface Herald {
  readonly server: Server;
  /** The core: publishes what it is given, the hub's own events included (use `publish`). */
  readonly hub: Hub;
  readonly config: HeraldConfig;
  readonly connections: ReadonlySet<SseConnection>;
  /** The Mercure protocol routes (docs/mercure.md). */
  readonly mercure: MercureMount;
  /** Verifies tokens (src/auth/ JWT implementation of the core's Authorizer port). */
  readonly authorizer: Authorizer;
  /** Open streams, total and per IP (HERALD_MAX_CONNECTIONS*). */
  readonly streamLimits: ConnectionLimiter;
  /** Set when no key was configured: a token of this run that may publish and read everything. */
  readonly devToken: string | undefined;
  /** The base URL, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  /**
   * Publishes from the embedding program with the checks of POST /publish (api/host-publish.ts):
   * resolves with each event's id, rejects with the HeraldError the HTTP API would answer.
   */
  publish(inputs: readonly PublishInput[]): Promise<PublishResult[]>;
  /**
   * First half of a graceful stop: not ready, new streams and publishes refused (503), publishes
   * already being received finish. Streams stay open (a `--workers` primary drains every worker
   * before any of them ends its streams, so an event accepted by one reaches the streams of all).
   */
  drain(): Promise<void>;
  /** Graceful stop: `drain`, then every stream ends (its queued events flushed), the bus closes. */
  close(): Promise<void>;
}

export interface HeraldDeps {
  readonly log?: Logger;
  readonly bus?: Bus;
  /** A `--workers` worker: GET /status and GET /metrics answer the whole cluster's figures. */
  readonly clusterFigures?: ClusterFigures;
  /** A `--workers` worker: stream and publish-rate limits are counted for the whole machine. */
  readonly sharedLimits?: SharedLimits;
  /** A `--workers` worker on the memory bus: presence between the workers (cluster/presence.ts). */
  readonly presenceChannel?: PresenceChannel;
  /**
   * A `--workers` worker: how many workers share the node. Bounds stated per node (the webhook
   * queue and calls) are split between them, so the node as a whole keeps them.
   */
  readonly workers?: number;
  /**
   * Whether the publish routes take the lean path (http/lean-front.ts); default true. False: every
   * request goes through node:http (the tests compare both paths' answers to the same bytes).
   */
  readonly leanPublish?: boolean;
}

/** Starts Herald on `config.port` and resolves once it listens and the hub tails the bus. */
export async function startHerald(config: HeraldConfig, deps: HeraldDeps = {}): Promise<Herald> {
  checkKeySettings(config); // before anything starts: a key that does not fit its algorithm
  const log = deps.log ?? createLogger(config.logLevel);
  const auth = await setupAuth(config);
  const limits = {
    ...DEFAULT_PUBLISH_LIMITS,
    maxTopicLength: config.maxTopicLength,
    maxTopicsPerEvent: config.maxTopics,
    maxDataBytes: config.maxEventBytes,
  };
  const bus =
    deps.bus ??
    createBus({
      bus: config.bus,
      history: {
        maxEvents: config.historySize,
        maxBytes: config.historyMaxBytes,
        maxAgeMs: config.historyMaxAgeMs,
      },
      retention: config.busRetention,
      limits,
      privateTopics: config.privateTopics.map(parseSelector),
      log,
    });
  const hub = new Hub({
    bus,
    replayLimit: config.replayLimit,
    maxPendingBytes: config.maxBufferedBytes,
    defer: setImmediate, // batching bound: the end of the current event-loop iteration
    limits,
    privateTopics: config.privateTopics.map(parseSelector),
    countedTopics: config.metricsTopics,
  });
  await hub.start();
  let presence: Awaited<ReturnType<typeof startPresence>>;
  try {
    presence = await startPresence(config, hub, bus, log, deps.presenceChannel, deps.workers);
  } catch (error) {
    await bus.close().catch(() => {});
    throw new Error(`presence could not start: ${(error as Error).message}`, { cause: error });
  }

  const inFlight = new InFlight();
  const publishRate = new RateLimiter({ ratePerSec: config.publishRate, burst: config.publishBurst });
  const streamLimits = new ConnectionLimiter({
    total: config.maxConnections,
    perIp: config.maxConnectionsPerIp,
  });
  const controlRate = new RateLimiter({
    ratePerSec: config.controlRate,
    burst: config.controlBurst,
    names: CONTROL_RATE_NAMES,
  });
  const clientLimits = new Limits(streamLimits, publishRate, controlRate, deps.sharedLimits);
  const access = new Access({
    authorizer: auth.authorizer,
    allowAnonymousPublish: config.allowAnonymousPublish,
    allowAnonymousSubscribe: config.allowAnonymousSubscribe,
    cookieName: config.authCookie,
    trustProxy: config.trustProxy,
    limits: clientLimits,
  });
  // Herald's API and the seed's: one `Streams` (Mercure has its own, for its headers and heartbeat).
  const streams = new Streams({
    hub,
    log,
    protocol: HERALD_STREAMS,
    slots: clientLimits,
    refuseWhenStopping: inFlight.refuseWhenStopping,
    maxBufferedBytes: config.maxBufferedBytes,
    retryMs: config.retryMs,
    heartbeatMs: config.heartbeatMs,
  });
  let mercure: MercureMount;
  try {
    mercure = await createMercure({
      hub,
      settings: config,
      log,
      inFlight,
      limits: clientLimits,
      allSubscribers: allSubscribersOf(deps.clusterFigures),
      heraldVerifier:
        auth.devToken === undefined && auth.authorizer instanceof JwtAuthorizer
          ? auth.authorizer.verifier
          : undefined,
    });
  } catch (error) {
    streams.close();
    await presence?.close();
    throw error;
  }

  const startedAt = Date.now();
  const openStreams = {
    get size() {
      return streams.connections.size + mercure.context.connections.size;
    },
  };
  const figures = () => readFigures(hub, bus, openStreams);
  const metrics = createMetrics(figures);
  if (presence !== undefined) addPresenceMetrics(metrics, presence.figures, presence.webhookFigures);
  deps.clusterFigures?.serve({
    figures,
    metrics: () => metrics.getMetricsAsJSON(),
    subscribers: () => mercure.context.subscriptions?.all() ?? [],
  });

  const publisher = (req: IncomingMessage) => access.publisher(req);
  const subscriber = (req: IncomingMessage) => access.subscriber(req);
  const stoppingGate = async (): Promise<Principal> => {
    inFlight.refuseWhenStopping();
    throw new Error("refuseWhenStopping refuses while stopping");
  };
  const chargeBatch = (principal: Principal, events: number) => access.publishBatch(principal, events);
  const control = new StreamControl(hub, { maxTopics: config.maxTopics, log });
  const changeStream = streamsRoute(access, auth.authorizer, control, config);
  const issueTicket = ticketsRoute(access, auth.authorizer, control);
  const router = routes({
    events: eventsRoute(streams, streamCredential(access, control), control, {
      ...config,
      streamPresence: presence?.presence,
    }),
    streams: (req, res, url) => inFlight.track(() => changeStream(req, res, url)),
    tickets: (req, res, url) => inFlight.track(() => issueTicket(req, res, url)),
    publish: (req, res) => inFlight.track(() => handlePublish(hub, config, req, res, publisher)),
    publishBatch: (req, res) =>
      inFlight.track(() => handlePublishBatch(hub, config, req, res, publisher, chargeBatch)),
    setCookie: (req, res) => handleSetCookie(auth.authorizer, config, req, res),
    deleteCookie: (req, res) => handleDeleteCookie(config, req, res),
    stream: seedStreamRoute(streams, subscriber, config),
    // While stopping, the refusal comes from inside handleBroadcast, in the seed's answer shape.
    broadcast: (req, res) =>
      inFlight.isStopping
        ? handleBroadcast(hub, config, req, res, stoppingGate)
        : inFlight.track(() => handleBroadcast(hub, config, req, res, publisher)),
    mercure: mercure.routes,
    health: handleHealth,
    ready: readinessRoute(bus, inFlight),
    metrics: (req, res) => handleMetrics(metrics, req, res, deps.clusterFigures),
    status: (req, res) => handleStatus(figures, startedAt, req, res, deps.clusterFigures),
    page: handlePage,
    openapi: handleOpenApi,
    presence: presenceRoute({
      presence: presence?.presence,
      principal: subscriber,
      allowAnonymousSubscribe: config.allowAnonymousSubscribe,
      privateTopics: config.privateTopics.map(parseSelector),
      limits,
    }),
  });
  const defaultCors = new Cors(config.corsOrigins);
  const mercureCors =
    config.mercureCorsOrigins.length > 0 ? new Cors(config.mercureCorsOrigins) : defaultCors;
  const handle = serve({
    router,
    corsOf: (path) => (path.startsWith(MERCURE_PATH) ? mercureCors : defaultCors),
    log,
  });

  // Slow-loris: a client gets headersTimeout to send its headers and requestTimeout for the whole
  // request; Node checks both every connectionsCheckingInterval. Streams are not affected (the
  // request is complete once its headers are in).
  // Socket buffers: 16 KiB, Node 20's default (Node 22 raised it to 64 KiB). A replay waits for
  // 'drain' once a write passes it; a bound above --max-buffered would let a replay run past the
  // limit without ever waiting, and cut every resuming client off as slow.
  const server = createServer(
    {
      highWaterMark: SOCKET_HIGH_WATER_MARK,
      headersTimeout: Math.min(config.headersTimeoutMs, config.requestTimeoutMs),
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs),
      // answered with Herald's JSON error instead of node:http's empty 400 (http/node-refusals.ts)
      requireHostHeader: false,
    },
    (req, res) => {
      void handle(req, res);
    },
  );
  // A client's half-close (FIN) after pipelined requests: each is answered, in turn
  // (http/in-turn.ts), then the connection closes, as on the lean path (node:http's default ends
  // our side at once, cutting off the requests not started yet).
  (server as { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen = true;
  server.on("clientError", onClientError);
  server.on("checkExpectation", inTurn(refuseExpectation));
  server.on("connect", refuseConnect);
  // the publish routes skip node:http's per-request work
  if (deps.leanPublish !== false) serveLean(server, [...LEAN_ROUTES]);

  const sweeper = setInterval(() => {
    publishRate.sweep();
    controlRate.sweep();
  }, 60_000);
  sweeper.unref();

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, config.host === "" ? undefined : config.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    // nothing may be left running: the hub's bus, the timers
    streams.close();
    clearInterval(sweeper);
    mercure.close();
    await presence?.close();
    await bus.close().catch(() => {});
    throw cannotListen(error as NodeJS.ErrnoException, config);
  }
  const { address, url } = boundAddress(server.address() as AddressInfo);
  log.info({ address, url, bus: redactBusUrl(config.bus), keys: auth.keyDescription }, "Herald listening");
  if (config.allowAnonymousPublish) {
    log.warn(
      "UNSAFE: anonymous publishing is on (HERALD_ALLOW_ANONYMOUS_PUBLISH=true): anyone who reaches this hub may publish to any topic",
    );
  }
  if (auth.devToken !== undefined) logDevToken(log, auth.devToken, url);
  const stopDemo = config.demo ? startDemoFeed(hub, log) : () => {};

  let closing: Promise<void> | undefined;
  let draining: Promise<void> | undefined;
  const drain = () => {
    draining ??= (async () => {
      const stopped = inFlight.stop(config.shutdownTimeoutMs);
      stopDemo();
      await stopped;
    })();
    return draining;
  };
  const close = () => {
    closing ??= (async () => {
      await drain();
      streams.close();
      mercure.close();
      clearInterval(sweeper);
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      const stopBy = Date.now() + config.shutdownTimeoutMs;
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs).unref());
      hub.closeAll("shutdown");
      server.closeIdleConnections();
      await Promise.race([serverClosed, deadline]);
      server.closeAllConnections();
      // the streams' leaves and webhooks go out (until the deadline), then a "bye": the other
      // nodes forget this one now
      await presence?.close(stopBy);
      await bus.close();
      log.info("Herald stopped");
    })();
    return closing;
  };

  return {
    server,
    hub,
    config,
    connections: streams.connections,
    mercure,
    url,
    publish: (inputs) => hostPublish(hub, inputs),
    drain,
    close,
    authorizer: auth.authorizer,
    streamLimits,
    devToken: auth.devToken,
  };
}

/** Why the server could not listen, saying which setting to change. */
function cannotListen(error: NodeJS.ErrnoException, config: HeraldConfig): Error {
  const where = `port ${config.port} on ${config.host === "" ? "every address" : config.host}`;
  const message =
    error.code === "EADDRINUSE"
      ? `${where} is already in use: stop the program that holds it, or choose another port (HERALD_PORT / --port)`
      : error.code === "EACCES"
        ? `${where} needs privileges this process does not have: choose a port of 1024 or above (HERALD_PORT / --port)`
        : error.code === "EADDRNOTAVAIL"
          ? `${config.host} is not an address of this machine: set HERALD_HOST / --host to one of its addresses, or to 0.0.0.0`
          : `cannot listen on ${where}: ${error.message}`;
  return new Error(message, { cause: error });
}

/** With `--workers N`, the subscriptions API lists every worker's Mercure subscribers. */
function allSubscribersOf(cluster: ClusterFigures | undefined) {
  if (cluster === undefined) return undefined;
  return () => cluster.subscribers() as Promise<ActiveSubscriber[]>;
}
