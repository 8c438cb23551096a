import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { AuthError } from "../core/auth.ts";
import { EARLIEST } from "../core/bus.ts";
import { encodeComment, encodeRetry } from "../core/encoder.ts";
import { badRequest, HeraldError } from "../core/errors.ts";
import { DEFAULT_PUBLISH_LIMITS, validateTopic } from "../core/event.ts";
import type { ResumeOutcome } from "../core/hub.ts";
import type { Subscriber } from "../core/subscriber.ts";
import type { TopicSelector } from "../core/topic.ts";
import { clientIp } from "../http/client-ip.ts";
import { headerText } from "../http/header-text.ts";
import { SSE_HEADERS, SseConnection } from "../http/sse/connection.ts";
import type { MercureClaims } from "./claims.ts";
import type { MercureContext } from "./context.ts";
import { type ActiveSubscriber, subscriptionUpdates } from "./subscriptions.ts";

/** Mercure's stream headers: Herald's, with caching ruled out as the Mercure hub does. */
const MERCURE_SSE_HEADERS = {
  ...SSE_HEADERS,
  "Cache-Control": "private, no-cache, no-store, must-revalidate, max-age=0",
};

/** Longest wait one timer may have (setTimeout's limit); longer expiries re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Mercure subscribe: `GET /.well-known/mercure?topic=<selector>[&topic=...]`. Selectors are exact
 * strings, `*`, or URI templates (selectors.ts); an update is sent when its canonical topic or an
 * alternate matches one, and, when private, when one of its topics matches the token's
 * `mercure.subscribe` (anonymous subscribers never get private updates).
 *
 * Resume: the `Last-Event-ID` header, else the `lastEventID` query parameter (`earliest` = all the
 * history holds). Then the response carries `Last-Event-ID`: the requested id when the hub resumed
 * from it (`earliest` for `earliest`), else `earliest` (the id is unknown or too old; Herald also
 * sends its `herald.missed` event). The stream closes when the token expires.
 */
export async function handleMercureSubscribe(
  ctx: MercureContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const claims = await ctx.auth.subscriber(req, url);
  if (claims === undefined && ctx.auth.subscriberAuth && !ctx.config.mercureAnonymous) {
    throw new AuthError(
      "unauthorized",
      undefined,
      'this hub does not allow anonymous subscribers: present a JWT (Authorization header, "authorization" query parameter or cookie)',
    );
  }
  const topics = topicsOf(url, ctx);
  const lastEventId = lastEventIdOf(req, url);
  const ip = clientIp(req, ctx.config.trustProxy);
  // Compiled templates are held (and counted for this IP) while the stream lives: 400 for a
  // template too complex, 429 over HERALD_MAX_TEMPLATES_PER_IP, 503 when the cache is full.
  const held = await ctx.selectors.hold(topics, ip);
  if (req.method === "HEAD") {
    // What a GET would answer, without opening a stream that nobody reads.
    held.release();
    res.writeHead(200, MERCURE_SSE_HEADERS).end();
    return;
  }
  let place: () => void;
  try {
    // Counted in Herald's stream limits (429/503 with Retry-After when reached).
    place = await ctx.limits.acquireStream(ip);
  } catch (error) {
    held.release();
    throw error;
  }
  const release = () => {
    place();
    held.release();
  };
  if (req.socket.destroyed) {
    release(); // the client left while its place was counted
    return;
  }
  try {
    await stream(ctx, res, { claims, topics, selectors: held.selectors, lastEventId, release });
  } catch (error) {
    if (!res.headersSent) release();
    throw error;
  }
}

interface StreamRequest {
  readonly claims: MercureClaims | undefined;
  readonly topics: string[];
  readonly selectors: readonly TopicSelector[];
  readonly lastEventId: string | undefined;
  /** Gives the stream's place in the connection limits back; idempotent. */
  readonly release: () => void;
}

async function stream(ctx: MercureContext, res: ServerResponse, request: StreamRequest) {
  const { claims, topics, selectors, lastEventId, release } = request;
  const me: ActiveSubscriber = {
    id: `urn:uuid:${randomUUID()}`,
    topics,
    payload: claims?.payload,
  };
  const registry = ctx.subscriptions;
  if (registry !== undefined) {
    await announce(ctx, me, true);
    registry.add(me);
  }

  let subscriber: Subscriber | undefined;
  let expiry: NodeJS.Timeout | undefined;
  let started = false;
  const start = (responseLastEventId: string | undefined) => {
    if (started) return;
    started = true;
    const headers: Record<string, string> = { ...MERCURE_SSE_HEADERS };
    if (responseLastEventId !== undefined) headers["Last-Event-ID"] = headerSafe(responseLastEventId);
    res.writeHead(200, headers);
    res.write(Buffer.concat([encodeComment("ok"), encodeRetry(ctx.config.retryMs)]));
    ctx.connections.add(connection);
  };
  const connection = new SseConnection(res, {
    maxBufferedBytes: ctx.config.maxBufferedBytes,
    onEnd: (reason) => {
      ctx.connections.delete(connection);
      release();
      clearTimeout(expiry);
      if (subscriber !== undefined) ctx.hub.unsubscribe(subscriber, reason);
      if (registry !== undefined) {
        registry.remove(me.id);
        announce(ctx, me, false).catch((error: unknown) => {
          ctx.log.debug({ err: error }, "mercure: unsubscription event not published");
        });
      }
      ctx.log.debug({ reason, subscriber: me.id }, "mercure stream closed");
    },
  });

  // The client may have left while its token was checked or the subscription announced: its
  // 'close' then came before the connection listened for it.
  if (res.socket === null || res.socket.destroyed) {
    connection.end("client-closed");
    return;
  }
  if (lastEventId === undefined) start(undefined);
  // A failing replay (bus down) throws before `start`: the caller then answers the error, and the
  // response's end runs `onEnd` (registry and subscription events cleaned up).
  subscriber = await ctx.hub.subscribe({
    selectors,
    privateSelectors: claims?.subscribe ?? [],
    sink: connection,
    lastEventId,
    onResume: (outcome: ResumeOutcome) => start(outcome.kind === "replay" ? lastEventId : EARLIEST),
  });
  if (connection.isEnded) {
    ctx.hub.unsubscribe(subscriber, "client-closed");
    return;
  }
  if (claims?.expiresAt !== undefined) {
    const live = subscriber;
    const arm = () => {
      const left = (claims.expiresAt as number) - Date.now();
      if (left <= 0) ctx.hub.unsubscribe(live, "expired");
      else expiry = setTimeout(arm, Math.min(left, MAX_TIMER_MS)).unref();
    };
    arm();
  }
  ctx.log.debug({ subscriber: me.id, topics, lastEventId }, "mercure stream opened");
}

/**
 * Publishes the subscription events of `subscriber`. An event whose topic or data breaks Herald's
 * limits (a selector near HERALD_MAX_TOPIC_LENGTH makes a longer subscription topic; a big
 * `mercure.payload`) is skipped with a warning rather than refusing the subscriber; a bus that
 * cannot store (`unavailable`) refuses it.
 */
async function announce(ctx: MercureContext, subscriber: ActiveSubscriber, active: boolean): Promise<void> {
  const updates = subscriptionUpdates(subscriber, active);
  for (const update of updates) {
    try {
      await ctx.hub.publish([update]);
    } catch (error) {
      if (error instanceof HeraldError && error.code === "unavailable") throw error;
      ctx.log.warn(
        { err: error, subscriber: subscriber.id, topic: update.topics[0] },
        "mercure: subscription event not published (raise HERALD_MAX_TOPIC_LENGTH or HERALD_MAX_EVENT_SIZE)",
      );
    }
  }
}

/** The `topic` query parameters: at least one, at most HERALD_MAX_TOPICS, each a valid topic. */
function topicsOf(url: URL, ctx: MercureContext): string[] {
  const topics = url.searchParams.getAll("topic");
  if (topics.length === 0) {
    throw badRequest(
      'missing "topic": subscribe with ?topic=<selector> (an exact topic, * or a URI template)',
    );
  }
  if (topics.length > ctx.config.maxTopics) {
    throw badRequest(
      `a subscription may have at most ${ctx.config.maxTopics} topic selectors (HERALD_MAX_TOPICS); got ${topics.length}`,
    );
  }
  const limits = { ...DEFAULT_PUBLISH_LIMITS, maxTopicLength: ctx.config.maxTopicLength };
  return [...new Set(topics)].map((topic) => validateTopic(topic, limits, "topic"));
}

/** The `Last-Event-ID` header wins over the `lastEventID` query parameter. */
function lastEventIdOf(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers["last-event-id"];
  if (typeof header === "string" && header !== "") return headerText(header);
  const query = url.searchParams.get("lastEventID");
  return query === null || query === "" ? undefined : query;
}

/**
 * An id as a header value. Ids may hold characters a header cannot carry (control characters,
 * non-ASCII): then those and `%` are percent-encoded (UTF-8). Printable ASCII ids are sent as is.
 */
function headerSafe(id: string): string {
  if (/^[\t\x20-\x7e]*$/.test(id)) return id;
  return id.replace(/[^\t\x20-\x7e]|%/gu, (ch) =>
    [...Buffer.from(ch, "utf8")].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join(""),
  );
}
