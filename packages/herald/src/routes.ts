import { STREAMS_PREFIX } from "./api/stream-routes.ts";
import { type Handler, Router } from "./http/router.ts";
import { MERCURE_PATH, METADATA_PATH, type MercureMount, SUBSCRIPTIONS_PATH } from "./mercure/index.ts";
import { OPENAPI_PATH } from "./ops/openapi-route.ts";
import { PAGE_PATHS } from "./ops/page.ts";

/** The handler of every route; herald.ts builds them from the features. */
export interface RouteHandlers {
  /** Herald's API (docs/http-api.md), api/. */
  readonly events: Handler;
  readonly publish: Handler;
  readonly publishBatch: Handler;
  readonly setCookie: Handler;
  readonly deleteCookie: Handler;
  /** Live changes of an open stream and tickets (docs/streams.md), api/stream-routes.ts. */
  readonly streams: Handler;
  readonly tickets: Handler;
  /** The seed article's API, api/seed.ts. */
  readonly stream: Handler;
  readonly broadcast: Handler;
  /** Mercure (docs/mercure.md), mercure/. */
  readonly mercure: MercureMount["routes"];
  /** Operations (docs/metrics.md), ops/. */
  readonly health: Handler;
  readonly ready: Handler;
  readonly metrics: Handler;
  readonly status: Handler;
  /** The demo page and the SDK as one ES module, ops/page.ts. */
  readonly page: Handler;
  /** Who is on a topic (docs/presence.md), presence/. */
  readonly presence: Handler;
  /** The OpenAPI 3.1 description of every route here, ops/openapi/. */
  readonly openapi: Handler;
}

/**
 * Every route Herald serves, in one table (Mercure's handler.go). A path matches exactly, or by
 * the longest prefix added with `addPrefix`; HEAD is served by the GET handler; another method is
 * a 405 with `Allow`, an unknown path a 404 (http/router.ts). CORS and errors: http/serve.ts.
 */
export function routes(h: RouteHandlers): Router {
  const router = new Router()
    .add("GET", "/events", h.events) // Herald's stream (http/sse/open-stream.ts)
    .add("GET", "/stream", h.stream) // the seed's stream, same path
    .add("POST", "/publish", h.publish)
    .add("POST", "/publish/batch", h.publishBatch)
    .add("POST", "/broadcast", h.broadcast)
    .add("POST", "/auth/cookie", h.setCookie)
    .add("DELETE", "/auth/cookie", h.deleteCookie)
    .addPrefix("POST", STREAMS_PREFIX, h.streams) // /streams/{id}/topics, /streams/{id}/token
    .add("POST", "/tickets", h.tickets)
    .add("GET", "/healthz", h.health)
    .add("GET", "/readyz", h.ready)
    .add("GET", MERCURE_PATH, h.mercure.subscribe) // Mercure's stream, same path
    .add("QUERY", MERCURE_PATH, h.mercure.subscribe) // the same, its parameters in a form body
    .add("POST", MERCURE_PATH, h.mercure.publish)
    .add("GET", METADATA_PATH, h.mercure.metadata) // RFC 9728 metadata of the hub
    .add("GET", SUBSCRIPTIONS_PATH, h.mercure.subscriptions)
    .addPrefix("GET", `${SUBSCRIPTIONS_PATH}/`, h.mercure.subscriptions)
    .add("GET", "/presence", h.presence) // who is on a topic, cluster-wide (presence/route.ts)
    .add("GET", "/metrics", h.metrics)
    .add("GET", "/status", h.status)
    .add("GET", OPENAPI_PATH, h.openapi);
  for (const path of PAGE_PATHS) router.add("GET", path, h.page); // /, /style.css, /app.js, /herald-client.js
  return router;
}
