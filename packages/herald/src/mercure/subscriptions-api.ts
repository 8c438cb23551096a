import type { IncomingMessage, ServerResponse } from "node:http";
import { AuthError } from "../core/auth.ts";
import { badRequest, HeraldError } from "../core/errors.ts";
import { anySelectorMatches } from "../core/topic.ts";
import type { MercureContext } from "./context.ts";
import { JSONLD_CONTEXT, SUBSCRIPTIONS_PATH, subscriptionDocs } from "./subscriptions.ts";

/**
 * The subscriptions API (spec "Subscription API"), when MERCURE_SUBSCRIPTIONS is on:
 * - `GET /.well-known/mercure/subscriptions`: every active subscription of this node (of every
 *   worker with `--workers N`: the primary collects them, waiting at most 1 s for each worker);
 * - `GET /.well-known/mercure/subscriptions/{topic}`: those of one topic selector;
 * - `GET /.well-known/mercure/subscriptions/{topic}/{subscriber}`: one subscription, or 404.
 * Answers `application/ld+json` with `lastEventID` (the hub's resume point, a position that names no
 * event, `earliest` if none), to subscribe to subscription events from without a gap, and an `ETag`
 * (`If-None-Match` -> 304).
 *
 * Access: when a subscriber key is configured, the token's `mercure.subscribe` must match the
 * requested path (e.g. with the selector `/.well-known/mercure/subscriptions{/topic}{/subscriber}`);
 * 401 without a valid token, 403 when it does not match.
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
  const segments = segmentsOf(url.pathname);
  if (ctx.auth.subscriberAuth) {
    const claims = await ctx.auth.subscriber(req, url);
    if (claims === undefined) {
      throw new AuthError("unauthorized", undefined, "the subscriptions API needs a subscriber JWT");
    }
    if (!anySelectorMatches(claims.subscribe, [url.pathname])) {
      throw new AuthError(
        "forbidden",
        "insufficient_scope",
        `this token may not read ${url.pathname}; its "mercure.subscribe" claim must match this URL`,
      );
    }
  }
  // The hub's resume point (a position `<epoch>-<n>`, or the last public event's id), never the id
  // of the newest event, which may be private: resuming from it replays exactly what came later.
  const lastEventID = ctx.hub.resumePoint ?? "earliest";
  // The list changes only with subscription events, which are events: the position is the version.
  const etag = `"${lastEventID.replace(/[%"]/g, (ch) => encodeURIComponent(ch)).replace(/[^\x21-\x7e]/g, "_")}"`;
  if (req.headers["if-none-match"] === etag) {
    res.writeHead(304, { ETag: etag, "Cache-Control": "must-revalidate" }).end();
    return;
  }
  const [topic, subscriber] = segments;
  const active = ctx.allSubscribers === undefined ? registry.all() : await ctx.allSubscribers();
  if (subscriber !== undefined) {
    const [doc] = subscriptionDocs(active, { topic, subscriber });
    if (doc === undefined) throw new HeraldError("not_found", "no such active subscription");
    sendJsonLd(res, etag, { "@context": JSONLD_CONTEXT, ...doc, lastEventID });
    return;
  }
  sendJsonLd(res, etag, {
    "@context": JSONLD_CONTEXT,
    id: url.pathname,
    type: "Subscriptions",
    lastEventID,
    subscriptions: subscriptionDocs(active, { topic }),
  });
}

/** The decoded `{topic}` and `{subscriber}` segments after /.well-known/mercure/subscriptions. */
function segmentsOf(pathname: string): string[] {
  const rest = pathname.slice(SUBSCRIPTIONS_PATH.length);
  if (rest === "" || rest === "/") return [];
  const parts = rest.slice(1).split("/");
  if (parts.length > 2 || parts.some((p) => p === "")) {
    throw new HeraldError(
      "not_found",
      `no route ${pathname}; use ${SUBSCRIPTIONS_PATH}[/{topic}[/{subscriber}]] with both values percent-encoded`,
    );
  }
  try {
    return parts.map((p) => decodeURIComponent(p));
  } catch {
    throw badRequest(`${pathname} has a malformed percent-encoding`);
  }
}

function sendJsonLd(res: ServerResponse, etag: string, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, {
    ETag: etag,
    "Content-Type": "application/ld+json",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "must-revalidate",
  });
  res.end(text);
}
