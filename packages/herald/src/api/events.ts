import type { IncomingMessage, ServerResponse } from "node:http";
import { selectorsOf } from "../access/selector-cache.ts";
import type { HeraldConfig } from "../config/settings.ts";
import type { Principal } from "../core/auth.ts";
import { refuseControlTopic } from "../core/control.ts";
import { encodeEvent } from "../core/encoder.ts";
import type { TopicSelector } from "../core/topic.ts";
import { clientIp } from "../http/client-ip.ts";
import type { Handler } from "../http/router.ts";
import { SSE_HEADERS } from "../http/sse/connection.ts";
import type { StreamProtocol } from "../http/sse/head.ts";
import type { Streams } from "../http/sse/open-stream.ts";
import { queryTopics, resumeFrom } from "../http/sse/request.ts";
import type { Presence } from "../presence/presence.ts";
import { presenceWatcher } from "../presence/watcher.ts";
import type { HeldStream, StreamControl, StreamCredential } from "./stream-control.ts";
import { watchers } from "./watchers.ts";

/**
 * Herald's streams (`GET /events`, the seed's `GET /stream`): the head goes out at once, and a
 * live-only stream learns the hub's resume point in its `Last-Event-ID` response header.
 */
export const HERALD_STREAMS: StreamProtocol = {
  name: "events",
  headers: SSE_HEADERS,
  lastEventId: "resume-point",
  reusedIds: "own-topics-first",
};

/** Who a stream request comes from (`Access.subscriber`): a token's principal, or anonymous; 401 otherwise. */
export type SubscriberGate = (req: IncomingMessage) => Promise<Principal>;

/** The settings `GET /events` reads. */
export type EventsOptions = Pick<HeraldConfig, "maxTopics" | "maxTopicLength" | "trustProxy"> & {
  /** Counts the streams of watched topics (`--presence`); absent when presence is off. */
  readonly streamPresence?: Presence | undefined;
};

/** Topic selectors of `GET /events`: repeated `topic` query parameters. Validated here (400; the control topic too). */
export function topicsFromQuery(
  url: URL,
  limits: Pick<HeraldConfig, "maxTopics" | "maxTopicLength">,
): readonly TopicSelector[] {
  const topics = queryTopics(
    url,
    limits,
    "at least one topic is required: GET /events?topic=<name>[&topic=<other>]",
  );
  refuseControlTopic(topics);
  return selectorsOf(topics);
}

/** Who a `GET /events` request comes from: its principal and token digest (`StreamControl`), from a ticket or a token. */
export type CredentialGate = (req: IncomingMessage, url: URL) => Promise<StreamCredential>;

/**
 * `GET /events?topic=<name>[&topic=<other>]`: the events of those topics (exact names, or `*`
 * patterns), public ones, plus private ones the token's subscribe claim allows. Resume with the
 * `Last-Event-ID` header or the `lastEventId` query parameter (docs/http-api.md). The stream opens
 * with its id (`event: herald.stream`, data `{"id", "topics"}`), which `POST /streams/{id}/...`
 * changes (docs/streams.md); `?ticket=` stands for a token (`POST /tickets`).
 */
export function eventsRoute(
  streams: Streams,
  credential: CredentialGate,
  control: StreamControl,
  options: EventsOptions,
): Handler {
  return (req, res, url) =>
    openHeraldStream(streams, credential, options, req, res, url, topicsFromQuery(url, options), control);
}

/** The type of the event a `GET /events?announce=1` stream opens with (its id and topics). */
export const STREAM_EVENT_TYPE = "herald.stream";

/**
 * The query parameter by which a `GET /events` stream asks for an id (`announce=1`): it then opens
 * with the `herald.stream` event, and `POST /streams/{id}/...` can change it. Opt-in, so that a
 * client that reads every event of its stream (a raw SSE reader, an existing integration) gets only
 * the events of its topics, as before stream ids existed; the SDK always asks.
 */
export const ANNOUNCE_PARAM = "announce";

/**
 * Herald's way into the shared stream path (`Streams`): a place in the connection limits first,
 * then the subscriber's credential (401 without one when anonymous subscribers are refused), then
 * the stream. With `control` (`GET /events`) and `announce=1`, the stream gets an id, announced first.
 */
export async function openHeraldStream(
  streams: Streams,
  credential: CredentialGate,
  options: Pick<EventsOptions, "trustProxy" | "streamPresence">,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  selectors: readonly TopicSelector[],
  control?: StreamControl,
): Promise<void> {
  const release = await streams.admit(clientIp(req, options.trustProxy), req);
  let principal: Principal;
  let held: HeldStream | undefined;
  try {
    const found = await credential(req, url);
    principal = found.principal;
    held = url.searchParams.get(ANNOUNCE_PARAM) === "1" ? control?.open(selectors, found) : undefined;
  } catch (error) {
    release();
    throw error;
  }
  const presence =
    options.streamPresence &&
    presenceWatcher(options.streamPresence, principal, selectors, held !== undefined);
  if (held !== undefined && presence !== undefined) held.onChange = (now) => presence.changed(now);
  await streams.open(req, res, {
    selectors,
    privateSelectors: principal.subscribe,
    lastEventId: resumeFrom(req, url, "lastEventId"),
    expiresAt: principal.expiresAt,
    release,
    watcher: watchers(held, presence),
    announce:
      held &&
      encodeEvent({ type: STREAM_EVENT_TYPE, data: JSON.stringify({ id: held.id, topics: held.topics }) }),
  });
}
