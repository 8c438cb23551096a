import type { IncomingMessage, ServerResponse } from "node:http";
import { AuthError } from "../core/auth.ts";
import { badRequest, HeraldError } from "../core/errors.ts";
import { parseHubId } from "../core/ids.ts";
import { anySelectorMatches } from "../core/topic.ts";
import type { MercureClaims } from "./claims.ts";
import type { MercureContext } from "./context.ts";
import {
  type ActiveSubscriber,
  JSONLD_CONTEXT,
  MERCURE_EVENT_TYPE,
  SUBSCRIPTIONS_PATH,
  subscriptionDocs,
  subscriptionDocsV1,
} from "./subscriptions.ts";
import { MATCHER_TYPES, type MatcherType } from "./v1/details.ts";
import type { HubIdentity } from "./v1/identity.ts";

/**
 * The subscriptions API, when MERCURE_SUBSCRIPTIONS is on. Mercure 1.0 (spec "Subscription API"):
 * - `GET /.well-known/mercure/subscriptions`: every active subscription of this node (of every
 *   worker with `--workers N`: the primary collects them, waiting at most 1 s for each worker);
 * - `GET .../subscriptions/{match_type}/{match}`: those of one matcher;
 * - `GET .../subscriptions/{match_type}/{match}/{subscriber}`: one subscription, or 404.
 * Plain JSON (`application/json`, `type` `subscriptions` / `subscription`), with the cursor in
 * `Link: <hub>; rel="mercure"; last-event-id="..."; type="mercure"; content-type="application/json"`.
 *
 * Mercure 0.x, in compatibility mode: `.../subscriptions/{topic}[/{subscriber}]` (a first segment
 * that is not a matcher type), JSON-LD (`application/ld+json`, `Subscriptions` / `Subscription`,
 * `lastEventID` in the body). The collection at `.../subscriptions` is answered in the format of
 * the token's generation (0.x without a token, in compatibility mode).
 *
 * The cursor is the hub's resume point (a position `<epoch>-<n>`), never the id of the newest
 * event, which may be private: resuming from it replays exactly what came later. `earliest` while
 * nothing was dispatched (`cursorOf`).
 * The `ETag` is that position too (`If-None-Match` -> 304).
 *
 * Access: when subscriber tokens are read, the token must allow `subscribe` on the requested path
 * (e.g. the URL pattern `/.well-known/mercure/subscriptions/*`, or the 0.x template
 * `/.well-known/mercure/subscriptions{/topic}{/subscriber}`): 401 without a token, 403 otherwise.
 */
export async function handleSubscriptionsApi(
  ctx: MercureContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const registry = ctx.subscriptions;
  if (registry === undefined) {
    throw new HeraldError(
      "not_found",
      "the subscriptions API is off; start Herald with MERCURE_SUBSCRIPTIONS=true to enable it",
    );
  }
  const route = routeOf(url.pathname, ctx.auth.compat);
  const identity = ctx.auth.identity(req);
  let claims: MercureClaims | undefined;
  if (ctx.auth.subscriberAuth) {
    claims = await ctx.auth.subscriber(req, url, identity);
    if (claims === undefined) {
      throw new AuthError(
        "unauthorized",
        undefined,
        "the subscriptions API needs an access token allowing subscribe on this URL",
      );
    }
    if (!anySelectorMatches(claims.subscribe, [url.pathname])) {
      throw new AuthError(
        "forbidden",
        "insufficient_scope",
        claims.grants === undefined
          ? `this token may not read ${url.pathname}; its "mercure.subscribe" claim must match this URL`
          : `this token may not read ${url.pathname}; it needs a subscribe grant matching this URL (e.g. the URL pattern ${SUBSCRIPTIONS_PATH}/*)`,
      );
    }
  }
  const lastEventID = cursorOf(ctx.hub.resumePoint);
  // The list changes only with subscription events, which are events: the position is the version.
  const etag = `"${lastEventID.replace(/[%"]/g, (ch) => encodeURIComponent(ch)).replace(/[^\x21-\x7e]/g, "_")}"`;
  if (req.headers["if-none-match"] === etag) {
    res.writeHead(304, { ETag: etag, "Cache-Control": "must-revalidate" }).end();
    return;
  }
  const active = ctx.allSubscribers === undefined ? registry.all() : await ctx.allSubscribers();
  const modern =
    route.version === 1 || (route.version === "root" && (!ctx.auth.compat || claims?.grants !== undefined));
  if (modern) {
    sendV1(res, etag, identity, lastEventID, route.version === 1 ? route : {}, active, url.pathname);
    return;
  }
  const zero: { topic?: string; subscriber?: string | undefined } = route.version === 0 ? route : {};
  if (zero.subscriber !== undefined) {
    const [doc] = subscriptionDocs(active, zero);
    if (doc === undefined) throw new HeraldError("not_found", "no such active subscription");
    sendBody(res, etag, "application/ld+json", { "@context": JSONLD_CONTEXT, ...doc, lastEventID });
    return;
  }
  sendBody(res, etag, "application/ld+json", {
    "@context": JSONLD_CONTEXT,
    id: url.pathname,
    type: "Subscriptions",
    lastEventID,
    subscriptions: subscriptionDocs(active, zero),
  });
}

type Route =
  | { version: "root" }
  | { version: 1; type: MatcherType; match: string; subscriber?: string | undefined }
  | { version: 0; topic: string; subscriber?: string | undefined };

/**
 * The reconciliation cursor of a resume point (spec "Subscription API": "the identifier of the
 * last event dispatched by the hub at the time of this request, or `earliest` if no events have
 * been dispatched yet"): `earliest` when the hub has no position (a worker before its first
 * turn, a Redis or RabbitMQ node with nothing held) or stands at position 0 of its log's life
 * (the memory bus, and the primary's answer to its workers, before the first event), else the
 * position. Both resume alike; only `earliest` tells a client that nothing happened yet.
 */
function cursorOf(point: string | undefined): string {
  if (point === undefined || point === "" || parseHubId(point)?.pos === 0) return "earliest";
  return point;
}

/** The route of `pathname` under /.well-known/mercure/subscriptions, its segments decoded. */
function routeOf(pathname: string, compat: boolean): Route {
  const rest = pathname.slice(SUBSCRIPTIONS_PATH.length);
  if (rest === "" || rest === "/") return { version: "root" };
  const parts = rest.slice(1).split("/");
  const shape = `use ${SUBSCRIPTIONS_PATH}[/{match_type}/{match}[/{subscriber}]] with the values percent-encoded`;
  if (parts.some((p) => p === "") || parts.length > 3) {
    throw new HeraldError("not_found", `no route ${pathname}; ${shape}`);
  }
  let decoded: string[];
  try {
    decoded = parts.map((p) => decodeURIComponent(p));
  } catch {
    throw badRequest(`${pathname} has a malformed percent-encoding`);
  }
  const [first, second, third] = decoded as [string, string | undefined, string | undefined];
  if ((MATCHER_TYPES as readonly string[]).includes(first) && second !== undefined) {
    return { version: 1, type: first as MatcherType, match: second, subscriber: third };
  }
  if (compat && parts.length <= 2) return { version: 0, topic: first, subscriber: second };
  if (parts.length >= 2) {
    throw badRequest(
      `unknown matcher type ${JSON.stringify(first)}: it is "exact" or "urlpattern" (lowercase)`,
    );
  }
  throw new HeraldError("not_found", `no route ${pathname}; ${shape}`);
}

function sendV1(
  res: ServerResponse,
  etag: string,
  identity: HubIdentity,
  lastEventID: string,
  filter: { type?: MatcherType; match?: string; subscriber?: string | undefined },
  active: ActiveSubscriber[],
  path: string,
): void {
  const link = `<${identity.base}>; rel="mercure"; last-event-id="${lastEventID.replace(/["\\]/g, "\\$&")}"; type="${MERCURE_EVENT_TYPE}"; content-type="application/json"`;
  const docs = subscriptionDocsV1(active, filter);
  if (filter.subscriber !== undefined) {
    const [doc] = docs;
    if (doc === undefined) throw new HeraldError("not_found", "no such active subscription");
    sendBody(res, etag, "application/json", doc, { Link: link });
    return;
  }
  sendBody(
    res,
    etag,
    "application/json",
    { id: path, type: "subscriptions", subscriptions: docs },
    { Link: link },
  );
}

function sendBody(
  res: ServerResponse,
  etag: string,
  contentType: string,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(200, {
    ...headers,
    ETag: etag,
    "Content-Type": contentType,
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "must-revalidate",
    "Access-Control-Expose-Headers": "Link",
  });
  res.end(text);
}
