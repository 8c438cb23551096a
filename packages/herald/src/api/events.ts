import type { IncomingMessage, ServerResponse } from "node:http";
import { selectorsOf } from "../access/selector-cache.ts";
import type { HeraldConfig } from "../config/settings.ts";
import { encodeComment, encodeRetry } from "../core/encoder.ts";
import { badRequest } from "../core/errors.ts";
import { DEFAULT_PUBLISH_LIMITS, validateTopic } from "../core/event.ts";
import type { Hub } from "../core/hub.ts";
import type { CloseReason, Subscriber } from "../core/subscriber.ts";
import type { TopicSelector } from "../core/topic.ts";
import { headerText } from "../http/header-text.ts";
import { SSE_HEADERS, SseConnection } from "../http/sse/connection.ts";
import { atTime } from "../http/sse/deadline.ts";
import type { Logger } from "../ops/logger.ts";

const TOKEN_EXPIRED = encodeComment("token expired");

export interface StreamContext {
  readonly hub: Hub;
  readonly config: HeraldConfig;
  readonly log: Logger;
  /** Every open stream, for heartbeats and leak checks. */
  readonly connections: Set<SseConnection>;
}

/** Topic selectors of `GET /events`: repeated `topic` query parameters. Validated here. */
export function topicsFromQuery(url: URL, config: HeraldConfig): readonly TopicSelector[] {
  const topics = url.searchParams.getAll("topic");
  if (topics.length === 0 || topics.every((t) => t === "")) {
    throw badRequest("at least one topic is required: GET /events?topic=<name>[&topic=<other>]");
  }
  if (topics.length > config.maxTopics) {
    throw badRequest(
      `a subscription may name at most ${config.maxTopics} topics (HERALD_MAX_TOPICS); got ${topics.length}`,
    );
  }
  const limits = { ...DEFAULT_PUBLISH_LIMITS, maxTopicLength: config.maxTopicLength };
  return selectorsOf([...new Set(topics)].map((topic) => validateTopic(topic, limits, "topic")));
}

/** The client's resume point: the `Last-Event-ID` header wins over the `lastEventId` query parameter. */
export function lastEventIdOf(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers["last-event-id"];
  if (typeof header === "string" && header !== "") return headerText(header);
  const query = url.searchParams.get("lastEventId");
  return query === null || query === "" ? undefined : query;
}

let openingBytes: { retryMs: number; bytes: Buffer } | undefined;

/** The opening comment and `retry:` hint: the same bytes for every stream, built once. */
function opening(retryMs: number): Buffer {
  if (openingBytes?.retryMs !== retryMs) {
    openingBytes = { retryMs, bytes: Buffer.concat([encodeComment("ok"), encodeRetry(retryMs)]) };
  }
  return openingBytes.bytes;
}

let sharedHead = "";

/**
 * Memory per idle stream: node:http keeps the response head it sent (`res._header`) while the
 * response lives, built by string concatenation: a tree of ~25 V8 cons strings (~800 bytes).
 * Streams opened in the same second (same `Date`) send the same head: they share one string
 * (~270 bytes each saved). A new head is flattened first (converting it to a number makes V8
 * flatten it in place, the trick of the `flatstr` package, used by pino). Replacing the string by
 * an equal one changes nothing node:http could see; harmless if Node ever stops keeping it.
 */
function shareHeader(res: ServerResponse): void {
  const response = res as unknown as { _header?: unknown };
  const head = response._header;
  if (typeof head !== "string") return;
  if (head === sharedHead) {
    response._header = sharedHead;
  } else {
    Number(head);
    sharedHead = head;
  }
}

/** What a stream's subscriber may read and until when (from its token; public-only without one). */
export interface StreamAccess {
  /** Selectors on which it may receive private events (its token's subscribe claim). */
  readonly privateSelectors: readonly TopicSelector[];
  /** When its token expires (ms since the Unix epoch): the stream is ended then. */
  readonly expiresAt: number | undefined;
  /** Called once when the stream ends, whatever ended it (frees its connection slot). */
  readonly onEnd?: () => void;
}

const PUBLIC_ONLY: StreamAccess = { privateSelectors: [], expiresAt: undefined };

/**
 * Opens an SSE stream for `selectors` and hands it to the hub. Headers and an opening comment go
 * out at once so proxies pass the response on; then the replay (if resuming), then live events.
 */
export async function openStream(
  ctx: StreamContext,
  req: IncomingMessage,
  res: ServerResponse,
  selectors: readonly TopicSelector[],
  lastEventId: string | undefined,
  access: StreamAccess = PUBLIC_ONLY,
): Promise<void> {
  // A live-only subscriber learns where it stands, so it can resume even before its first event.
  // No await until hub.subscribe registers it: no event can be delivered in between.
  // Sent only when it is printable ASCII (a header value cannot carry every id a publisher may choose).
  const point = lastEventId === undefined ? ctx.hub.resumePoint : undefined;
  const standsAt = point !== undefined && /^[\x20-\x7e]+$/.test(point) ? point : undefined;
  res.writeHead(200, standsAt === undefined ? SSE_HEADERS : { ...SSE_HEADERS, "Last-Event-ID": standsAt });
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  res.write(opening(ctx.config.retryMs));
  shareHeader(res);
  const connection = new EventStream(res, ctx, req, access.onEnd);
  ctx.connections.add(connection);
  if (access.expiresAt !== undefined) {
    // The token's end is the stream's end: a client that reconnects must bring a fresh token.
    connection.cancelExpiry = atTime(access.expiresAt, () => {
      connection.write(TOKEN_EXPIRED);
      connection.end("expired");
    });
  }
  ctx.log.debug({ ip: req.socket.remoteAddress, url: req.url }, "stream opened");
  const subscriber = await ctx.hub.subscribe({
    selectors,
    privateSelectors: access.privateSelectors,
    sink: connection,
    lastEventId,
  });
  connection.subscriber = subscriber;
  if (connection.isEnded) ctx.hub.unsubscribe(subscriber, "client-closed");
}

/**
 * One `GET /events` stream: the SSE sink plus what its end must undo. A class rather than a closure
 * over the request's scope: an idle stream keeps these few fields and nothing else of `openStream`.
 */
class EventStream extends SseConnection {
  /** Set once the hub registered it (`hub.subscribe` resolved). */
  subscriber: Subscriber | undefined;
  /** Stops the token-expiry timer, when the token expires. */
  cancelExpiry: (() => void) | undefined;

  constructor(
    res: ServerResponse,
    private readonly ctx: StreamContext,
    private readonly req: IncomingMessage,
    /** `StreamAccess.onEnd`: frees the stream's connection slot. */
    private readonly release: (() => void) | undefined,
  ) {
    super(res, { maxBufferedBytes: ctx.config.maxBufferedBytes });
  }

  protected override streamEnded(reason: CloseReason, dropped: number): void {
    const ctx = this.ctx;
    ctx.hub.counters.dropped += dropped;
    this.cancelExpiry?.();
    this.release?.();
    ctx.connections.delete(this);
    if (this.subscriber !== undefined) ctx.hub.unsubscribe(this.subscriber, reason);
    if (reason === "slow") ctx.log.warn({ ip: this.req.socket.remoteAddress }, "slow client disconnected");
    else ctx.log.debug({ reason }, "stream closed");
  }
}
