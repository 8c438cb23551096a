import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ConnectionLimiter } from "./access/connection-limiter.ts";
import { Limits, type SharedLimits } from "./access/limits.ts";
import { RateLimiter } from "./access/rate-limiter.ts";
import { Access } from "./access/request-access.ts";
import { handleDeleteCookie, handleSetCookie } from "./api/auth-cookie.ts";
import { lastEventIdOf, openStream, type StreamContext, topicsFromQuery } from "./api/events.ts";
import { handlePublish } from "./api/publish.ts";
import { handlePublishBatch } from "./api/publish-batch.ts";
import { handleBroadcast } from "./api/seed.ts";
import { JwtAuthorizer } from "./auth/index.ts";
import { checkKeySettings, setupAuth } from "./auth/setup.ts";
import { createBus, redactBusUrl } from "./buses/index.ts";
import type { ClusterFigures } from "./cluster/figures.ts";
import type { HeraldConfig } from "./config/settings.ts";
import type { Authorizer, Principal } from "./core/auth.ts";
import type { Bus } from "./core/bus.ts";
import { encodeComment } from "./core/encoder.ts";
import { HeraldError } from "./core/errors.ts";
import { DEFAULT_PUBLISH_LIMITS } from "./core/event.ts";
import { Hub } from "./core/hub.ts";
import { parseSelector, type TopicSelector } from "./core/topic.ts";
import { onClientError } from "./http/client-errors.ts";
import { clientIp } from "./http/client-ip.ts";
import { Cors } from "./http/cors.ts";
import { sendError, sendJson, toHeraldError } from "./http/errors.ts";
import { LEAN_ROUTES, serveLean } from "./http/lean-front.ts";
import { parseTarget, Router } from "./http/router.ts";
import type { SseConnection } from "./http/sse/connection.ts";
import { MERCURE_PATH, type MercureMount, mountMercure } from "./mercure/index.ts";
import type { ActiveSubscriber } from "./mercure/subscriptions.ts";
import { startDemoFeed } from "./ops/demo.ts";
import { readFigures } from "./ops/figures.ts";
import { createLogger, type Logger } from "./ops/logger.ts";
import { createMetrics } from "./ops/metrics.ts";
import { handleMetrics, handleStatus } from "./ops/metrics-route.ts";
import { addWebRoutes } from "./ops/page.ts";

export interface Herald {
  readonly server: Server;
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

  const connections = new Set<SseConnection>();
  const ctx: StreamContext = { hub, config, log, connections };
  const defaultCors = new Cors(config.corsOrigins);
  const mercureCors =
    config.mercureCorsOrigins.length > 0 ? new Cors(config.mercureCorsOrigins) : defaultCors;
  const inFlight = new Set<Promise<void>>();
  const publishRate = new RateLimiter({ ratePerSec: config.publishRate, burst: config.publishBurst });
  const streamLimits = new ConnectionLimiter({
    total: config.maxConnections,
    perIp: config.maxConnectionsPerIp,
  });
  const clientLimits = new Limits(streamLimits, publishRate, deps.sharedLimits);
  const access = new Access({
    authorizer: auth.authorizer,
    allowAnonymousPublish: config.allowAnonymousPublish,
    allowAnonymousSubscribe: config.allowAnonymousSubscribe,
    cookieName: config.authCookie,
    trustProxy: config.trustProxy,
    limits: clientLimits,
  });
  const gate = (req: IncomingMessage) => access.publisher(req);
  const chargeBatch = (principal: Principal, events: number) => access.publishBatch(principal, events);
  /** Opens a stream after the connection limits and the subscriber's token are checked. */
  const stream = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    selectors: readonly TopicSelector[],
  ) => {
    refuseWhenStopping();
    const release = await clientLimits.acquireStream(clientIp(req, config.trustProxy));
    try {
      const principal = await access.subscriber(req);
      if (req.socket.destroyed) {
        release(); // the client left while its token or its place was checked
        return;
      }
      refuseWhenStopping(); // shutdown began while they were checked (the catch releases)
      const streamAccess = {
        privateSelectors: principal.subscribe,
        expiresAt: principal.expiresAt,
        onEnd: release,
      };
      await openStream(ctx, req, res, selectors, lastEventIdOf(req, url), streamAccess);
    } catch (error) {
      if (!res.headersSent) release();
      throw error;
    }
  };
  let shuttingDown = false;
  const startedAt = Date.now();
  const figures = () => readFigures(hub, bus, connections);
  const metrics = createMetrics(figures);
  // mercure is mounted below; the primary only collects once every worker has started
  let mercureSubscribers: () => object[] = () => [];
  deps.clusterFigures?.serve({
    figures,
    metrics: () => metrics.getMetricsAsJSON(),
    subscribers: () => mercureSubscribers(),
  });

  const refuseWhenStopping = () => {
    if (shuttingDown) {
      throw new HeraldError("unavailable", "Herald is shutting down; retry against another node", {
        retryAfterSeconds: 1,
      });
    }
  };
  const tracked = (work: () => Promise<void>) => {
    refuseWhenStopping();
    const promise = work();
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    inFlight.add(settled);
    void settled.finally(() => inFlight.delete(settled));
    return promise;
  };

  const router = new Router()
    .add("GET", "/events", (req, res, url) => stream(req, res, url, topicsFromQuery(url, config)))
    .add("GET", "/stream", (req, res, url) => stream(req, res, url, [parseSelector(config.broadcastTopic)]))
    .add("POST", "/publish", (req, res) => tracked(() => handlePublish(hub, config, req, res, gate)))
    .add("POST", "/publish/batch", (req, res) =>
      tracked(() => handlePublishBatch(hub, config, req, res, gate, chargeBatch)),
    )
    .add("POST", "/broadcast", (req, res) => tracked(() => handleBroadcast(hub, config, req, res, gate)))
    .add("POST", "/auth/cookie", (req, res) => handleSetCookie(auth.authorizer, config, req, res))
    .add("DELETE", "/auth/cookie", (req, res) => handleDeleteCookie(config, req, res))
    .add("GET", "/healthz", (_req, res) => sendJson(res, 200, { status: "ok" }))
    .add("GET", "/readyz", (_req, res) => {
      const busStatus = bus.status();
      if (shuttingDown) sendJson(res, 503, { ready: false, reason: "shutting down" });
      else if (!busStatus.ready)
        sendJson(res, 503, { ready: false, reason: busStatus.reason ?? "bus not ready" });
      else sendJson(res, 200, { ready: true });
    });
  const mercure = await mountMercure(router, {
    hub,
    config,
    log,
    track: tracked,
    refuseWhenStopping,
    limits: clientLimits,
    allSubscribers: allSubscribersOf(deps.clusterFigures),
    heraldVerifier:
      auth.devToken === undefined && auth.authorizer instanceof JwtAuthorizer
        ? auth.authorizer.verifier
        : undefined,
  });
  mercureSubscribers = () => mercure.context.subscriptions?.all() ?? [];
  router
    .add("GET", "/metrics", (req, res) => handleMetrics(metrics, req, res, deps.clusterFigures))
    .add("GET", "/status", (req, res) => handleStatus(figures, startedAt, req, res, deps.clusterFigures));
  addWebRoutes(router);

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const url = parseTarget(req.url);
      const cors = url.pathname.startsWith(MERCURE_PATH) ? mercureCors : defaultCors;
      if (req.method === "OPTIONS") {
        const allowed = router.allowed(url.pathname);
        if (allowed === undefined) throw new HeraldError("not_found", `no route ${url.pathname}`);
        cors.preflight(req, res, allowed);
        return;
      }
      cors.apply(req, res);
      await router.find(req.method ?? "GET", url.pathname)(req, res, url);
    } catch (error) {
      const herald = toHeraldError(error);
      if (herald.code === "internal") log.error({ err: error, url: req.url }, "request failed");
      const headers: Record<string, string> = {};
      if (herald.code === "method_not_allowed") {
        headers.Allow = router.allowed(parseTarget(req.url).pathname) ?? "";
      }
      sendError(res, herald, headers);
    }
  };

  // Slow-loris: a client gets headersTimeout to send its headers and requestTimeout for the whole
  // request; Node checks both every connectionsCheckingInterval. Streams are not affected (the
  // request is complete once its headers are in).
  const server = createServer(
    {
      headersTimeout: Math.min(config.headersTimeoutMs, config.requestTimeoutMs),
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs),
    },
    (req, res) => {
      void handle(req, res);
    },
  );
  server.on("clientError", onClientError);
  serveLean(server, [...LEAN_ROUTES]); // the publish routes skip node:http's per-request work

  const heartbeat = encodeComment("heartbeat");
  const timer = setInterval(() => {
    for (const connection of connections) connection.write(heartbeat);
  }, config.heartbeatMs);
  timer.unref();
  const sweeper = setInterval(() => publishRate.sweep(), 60_000);
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
    clearInterval(timer);
    clearInterval(sweeper);
    mercure.close();
    await bus.close().catch(() => {});
    throw cannotListen(error as NodeJS.ErrnoException, config);
  }
  const address = server.address() as AddressInfo;
  const host =
    address.family === "IPv6"
      ? address.address === "::"
        ? "127.0.0.1"
        : `[${address.address}]`
      : address.address === "0.0.0.0"
        ? "127.0.0.1"
        : address.address;
  const url = `http://${host}:${address.port}`;
  log.info({ url, bus: redactBusUrl(config.bus), keys: auth.keyDescription }, "Herald listening");
  if (config.allowAnonymousPublish) {
    log.warn(
      "UNSAFE: anonymous publishing is on (HERALD_ALLOW_ANONYMOUS_PUBLISH=true): anyone who reaches this hub may publish to any topic",
    );
  }
  if (auth.devToken !== undefined) {
    log.warn(
      { token: auth.devToken },
      "no key configured (HERALD_JWT_SECRET, HERALD_JWT_PUBLIC_KEY or HERALD_JWKS_URL): tokens are signed with a random secret of this run; this publisher token allows every topic",
    );
  }
  const stopDemo = config.demo ? startDemoFeed(hub, log) : () => {};

  let closing: Promise<void> | undefined;
  let draining: Promise<void> | undefined;
  const drain = () => {
    draining ??= (async () => {
      shuttingDown = true;
      stopDemo();
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs).unref());
      await Promise.race([Promise.all(inFlight), deadline]);
    })();
    return draining;
  };
  const close = () => {
    closing ??= (async () => {
      await drain();
      clearInterval(timer);
      mercure.close();
      clearInterval(sweeper);
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs).unref());
      hub.closeAll("shutdown");
      server.closeIdleConnections();
      await Promise.race([serverClosed, deadline]);
      server.closeAllConnections();
      await bus.close();
      log.info("Herald stopped");
    })();
    return closing;
  };

  return {
    server,
    hub,
    config,
    connections,
    mercure,
    url,
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
