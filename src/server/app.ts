import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { MemoryBus } from "../buses/memory.ts";
import type { Bus } from "../core/bus.ts";
import { encodeComment } from "../core/encoder.ts";
import { HeraldError } from "../core/errors.ts";
import { DEFAULT_PUBLISH_LIMITS } from "../core/event.ts";
import { Hub } from "../core/hub.ts";
import { parseSelector } from "../core/topic.ts";
import type { HeraldConfig } from "./config.ts";
import { Cors } from "./cors.ts";
import { sendError, sendJson, toHeraldError } from "./http-errors.ts";
import { createLogger, type Logger } from "./logger.ts";
import { MERCURE_PATH, type MercureMount, mountMercure } from "./mercure/index.ts";
import { Router } from "./router.ts";
import { lastEventIdOf, openStream, type StreamContext, topicsFromQuery } from "./routes/events.ts";
import { handlePublish } from "./routes/publish.ts";
import { handleBroadcast } from "./routes/seed.ts";
import type { SseConnection } from "./sse-connection.ts";

export interface Herald {
  readonly server: Server;
  readonly hub: Hub;
  readonly config: HeraldConfig;
  readonly connections: ReadonlySet<SseConnection>;
  /** The Mercure protocol routes (docs/mercure.md). */
  readonly mercure: MercureMount;
  /** The base URL, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  /** Graceful stop: not ready, no new streams, in-flight publishes finish, streams end, bus closes. */
  close(): Promise<void>;
}

export interface HeraldDeps {
  readonly log?: Logger;
  readonly bus?: Bus;
}

/** Starts Herald on `config.port` and resolves once it listens and the hub tails the bus. */
export async function startHerald(config: HeraldConfig, deps: HeraldDeps = {}): Promise<Herald> {
  const log = deps.log ?? createLogger(config.logLevel);
  const bus =
    deps.bus ??
    new MemoryBus({ history: { maxEvents: config.historySize, maxAgeMs: config.historyMaxAgeMs } });
  const hub = new Hub({
    bus,
    replayLimit: config.replayLimit,
    maxPendingBytes: config.maxBufferedBytes,
    limits: {
      ...DEFAULT_PUBLISH_LIMITS,
      maxTopicLength: config.maxTopicLength,
      maxTopicsPerEvent: config.maxTopics,
    },
  });
  await hub.start();

  const connections = new Set<SseConnection>();
  const ctx: StreamContext = { hub, config, log, connections };
  const defaultCors = new Cors(config.corsOrigins);
  const mercureCors =
    config.mercureCorsOrigins.length > 0 ? new Cors(config.mercureCorsOrigins) : defaultCors;
  const inFlight = new Set<Promise<void>>();
  let shuttingDown = false;

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
    .add("GET", "/events", async (req, res, url) => {
      refuseWhenStopping();
      await openStream(ctx, req, res, topicsFromQuery(url, config), lastEventIdOf(req, url));
    })
    .add("GET", "/stream", async (req, res, url) => {
      refuseWhenStopping();
      await openStream(ctx, req, res, [parseSelector(config.broadcastTopic)], lastEventIdOf(req, url));
    })
    .add("POST", "/publish", (req, res) => tracked(() => handlePublish(hub, config, req, res)))
    .add("POST", "/broadcast", (req, res) => tracked(() => handleBroadcast(hub, config, req, res)))
    .add("GET", "/healthz", (_req, res) => sendJson(res, 200, { status: "ok" }))
    .add("GET", "/readyz", (_req, res) => {
      const busStatus = bus.status();
      if (shuttingDown) sendJson(res, 503, { ready: false, reason: "shutting down" });
      else if (!busStatus.ready)
        sendJson(res, 503, { ready: false, reason: busStatus.reason ?? "bus not ready" });
      else sendJson(res, 200, { ready: true });
    });
  const mercure = await mountMercure(router, { hub, config, log, track: tracked, refuseWhenStopping });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const url = new URL(req.url ?? "/", "http://herald.local");
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
        headers.Allow = router.allowed(new URL(req.url ?? "/", "http://herald.local").pathname) ?? "";
      }
      sendError(res, herald, headers);
    }
  };

  const server = createServer({ headersTimeout: 15_000, requestTimeout: 30_000 }, (req, res) => {
    void handle(req, res);
  });
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });

  const heartbeat = encodeComment("heartbeat");
  const timer = setInterval(() => {
    for (const connection of connections) connection.write(heartbeat);
  }, config.heartbeatMs);
  timer.unref();

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host === "" ? undefined : config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
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
  log.info({ url, bus: config.bus }, "Herald listening");

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      shuttingDown = true;
      clearInterval(timer);
      mercure.close();
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs).unref());
      await Promise.race([Promise.all(inFlight), deadline]);
      hub.closeAll("shutdown");
      server.closeIdleConnections();
      await Promise.race([serverClosed, deadline]);
      server.closeAllConnections();
      await bus.close();
      log.info("Herald stopped");
    })();
    return closing;
  };

  return { server, hub, config, connections, mercure, url, close };
}
