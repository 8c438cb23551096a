import type { IncomingMessage, ServerResponse } from "node:http";
import { encodeComment, encodeRetry } from "../../core/encoder.ts";
import { badRequest } from "../../core/errors.ts";
import { DEFAULT_PUBLISH_LIMITS, validateTopic } from "../../core/event.ts";
import type { Hub } from "../../core/hub.ts";
import type { Subscriber } from "../../core/subscriber.ts";
import type { TopicSelector } from "../../core/topic.ts";
import type { HeraldConfig } from "../config.ts";
import { atTime } from "../deadline.ts";
import type { Logger } from "../logger.ts";
import { selectorsOf } from "../selector-cache.ts";
import { SSE_HEADERS, SseConnection } from "../sse-connection.ts";

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
  if (typeof header === "string" && header !== "") return header;
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

/**
 * Memory per idle stream: node:http builds the response head by string concatenation and keeps it
 * (`res._header`) while the response lives: a tree of ~25 V8 cons strings (~800 bytes). Converting
 * it to a number makes V8 flatten it in place (the trick of the `flatstr` package, used by pino),
 * leaving one flat string of the head's ~250 bytes. Harmless if Node ever stops keeping it.
 */
function flattenHeader(res: ServerResponse): void {
  const head = (res as unknown as { _header?: unknown })._header;
  if (typeof head === "string") Number(head);
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
  flattenHeader(res);
  let subscriber: Subscriber | undefined;
  let cancelExpiry: (() => void) | undefined;
  const connection = new SseConnection(res, {
    maxBufferedBytes: ctx.config.maxBufferedBytes,
    onEnd: (reason, dropped) => {
      ctx.hub.counters.dropped += dropped;
      cancelExpiry?.();
      access.onEnd?.();
      ctx.connections.delete(connection);
      if (subscriber !== undefined) ctx.hub.unsubscribe(subscriber, reason);
      if (reason === "slow") ctx.log.warn({ ip: req.socket.remoteAddress }, "slow client disconnected");
      else ctx.log.debug({ reason }, "stream closed");
    },
  });
  ctx.connections.add(connection);
  if (access.expiresAt !== undefined) {
    // The token's end is the stream's end: a client that reconnects must bring a fresh token.
    cancelExpiry = atTime(access.expiresAt, () => {
      connection.write(TOKEN_EXPIRED);
      connection.end("expired");
    });
  }
  ctx.log.debug({ ip: req.socket.remoteAddress, url: req.url }, "stream opened");
  subscriber = await ctx.hub.subscribe({
    selectors,
    privateSelectors: access.privateSelectors,
    sink: connection,
    lastEventId,
  });
  if (connection.isEnded) ctx.hub.unsubscribe(subscriber, "client-closed");
}
