import type { IncomingMessage, ServerResponse } from "node:http";
import { encodeComment, encodeRetry } from "../../core/encoder.ts";
import { badRequest } from "../../core/errors.ts";
import { DEFAULT_PUBLISH_LIMITS, validateTopic } from "../../core/event.ts";
import type { Hub } from "../../core/hub.ts";
import type { Subscriber } from "../../core/subscriber.ts";
import { parseSelector, type TopicSelector } from "../../core/topic.ts";
import type { HeraldConfig } from "../config.ts";
import { atTime } from "../deadline.ts";
import type { Logger } from "../logger.ts";
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
export function topicsFromQuery(url: URL, config: HeraldConfig): TopicSelector[] {
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
  return [...new Set(topics)].map((topic) => parseSelector(validateTopic(topic, limits, "topic")));
}

/** The client's resume point: the `Last-Event-ID` header wins over the `lastEventId` query parameter. */
export function lastEventIdOf(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers["last-event-id"];
  if (typeof header === "string" && header !== "") return header;
  const query = url.searchParams.get("lastEventId");
  return query === null || query === "" ? undefined : query;
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
  res.writeHead(200, SSE_HEADERS);
  res.write(Buffer.concat([encodeComment("ok"), encodeRetry(ctx.config.retryMs)]));
  let subscriber: Subscriber | undefined;
  let cancelExpiry: (() => void) | undefined;
  const connection = new SseConnection(res, {
    maxBufferedBytes: ctx.config.maxBufferedBytes,
    onEnd: (reason) => {
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
