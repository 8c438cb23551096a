import type { IncomingMessage, ServerResponse } from "node:http";
import { selectorsOf } from "../access/selector-cache.ts";
import type { HeraldConfig } from "../config/settings.ts";
import type { Principal } from "../core/auth.ts";
import type { TopicSelector } from "../core/topic.ts";
import { clientIp } from "../http/client-ip.ts";
import type { Handler } from "../http/router.ts";
import { SSE_HEADERS } from "../http/sse/connection.ts";
import type { StreamProtocol } from "../http/sse/head.ts";
import type { Streams } from "../http/sse/open-stream.ts";
import { queryTopics, resumeFrom } from "../http/sse/request.ts";

/**
 * Herald's streams (`GET /events`, the seed's `GET /stream`): the head goes out at once, and a
 * live-only stream learns the hub's resume point in its `Last-Event-ID` response header.
 */
export const HERALD_STREAMS: StreamProtocol = {
  name: "events",
  headers: SSE_HEADERS,
  lastEventId: "resume-point",
};

/** Who a stream request comes from (`Access.subscriber`): a token's principal, or anonymous; 401 otherwise. */
export type SubscriberGate = (req: IncomingMessage) => Promise<Principal>;

/** The settings `GET /events` reads. */
export type EventsOptions = Pick<HeraldConfig, "maxTopics" | "maxTopicLength" | "trustProxy">;

/** Topic selectors of `GET /events`: repeated `topic` query parameters. Validated here (400). */
export function topicsFromQuery(
  url: URL,
  limits: Pick<HeraldConfig, "maxTopics" | "maxTopicLength">,
): readonly TopicSelector[] {
  return selectorsOf(
    queryTopics(url, limits, "at least one topic is required: GET /events?topic=<name>[&topic=<other>]"),
  );
}

/**
 * `GET /events?topic=<name>[&topic=<other>]`: the events of those topics (exact names, or `*`
 * patterns), public ones, plus private ones the token's subscribe claim allows. Resume with the
 * `Last-Event-ID` header or the `lastEventId` query parameter (docs/http-api.md).
 */
export function eventsRoute(streams: Streams, subscriber: SubscriberGate, options: EventsOptions): Handler {
  return (req, res, url) =>
    openHeraldStream(streams, subscriber, options, req, res, url, topicsFromQuery(url, options));
}

/**
 * Herald's way into the shared stream path (`Streams`): a place in the connection limits first,
 * then the subscriber's token (401 without one when anonymous subscribers are refused), then the
 * stream.
 */
export async function openHeraldStream(
  streams: Streams,
  subscriber: SubscriberGate,
  options: Pick<HeraldConfig, "trustProxy">,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  selectors: readonly TopicSelector[],
): Promise<void> {
  const release = await streams.admit(clientIp(req, options.trustProxy));
  let principal: Principal;
  try {
    principal = await subscriber(req);
  } catch (error) {
    release();
    throw error;
  }
  await streams.open(req, res, {
    selectors,
    privateSelectors: principal.subscribe,
    lastEventId: resumeFrom(req, url, "lastEventId"),
    expiresAt: principal.expiresAt,
    release,
  });
}
