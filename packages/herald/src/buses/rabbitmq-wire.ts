import type { AsyncMessage } from "rabbitmq-client";
import type { LogEntry } from "./log-bus.ts";

/** The RabbitMQ log's wire format: names, headers, and how a message becomes an entry (docs/buses.md). */

/** The wire names producers use (docs/buses.md), for a name prefix (default `herald`). */
export function rabbitNames(prefix = "herald") {
  return {
    /** Producers publish here (a durable topic exchange); any routing key. */
    exchange: prefix,
    /** The stream queue every node tails (bound to the exchange with `#`). */
    stream: `${prefix}.log`,
    /** Holds the log's epoch (one message); delete it together with the stream. */
    epoch: `${prefix}.epoch`,
    /** On a cluster: a stream (replicated) whose first message is the log's epoch. */
    epochStream: `${prefix}.epoch-stream`,
  };
}

export const RABBIT_HEADERS = {
  topics: "x-herald-topics",
  /**
   * Several topics as a JSON array in a string (what Herald writes): RabbitMQ 3.10 streams drop
   * array-valued headers, so an array in `x-herald-topics` arrives as no header at all.
   */
  topicsJson: "x-herald-topics-json",
  retry: "x-herald-retry",
  private: "x-herald-private",
  token: "x-herald-token",
  time: "x-herald-time",
  /** The publisher's dedup scope (Herald's own; never sent to subscribers). */
  scope: "x-herald-scope",
  /** Reserved: a node's catch-up marker (`sync`), skipped by every node. */
  control: "x-herald-control",
} as const;

/** The stream's retention in bytes (`x-max-length-bytes`) and segment size, by default. */
export const DEFAULT_STREAM_BYTES = { maxBytes: 200_000_000, segmentBytes: 10_000_000 };

/**
 * The stream queue's arguments. RabbitMQ refuses a declaration whose arguments differ from the
 * queue's: every node must use the same, for the life of the queue.
 */
export function streamArguments(bytes = DEFAULT_STREAM_BYTES) {
  return {
    "x-queue-type": "stream" as const,
    "x-max-length-bytes": bytes.maxBytes,
    "x-stream-max-segment-size-bytes": bytes.segmentBytes,
  };
}

export function bodyText(body: unknown): string {
  if (typeof body === "string") return body;
  if (Buffer.isBuffer(body)) return body.toString("utf8");
  return JSON.stringify(body);
}

/**
 * A message's event (docs/buses.md): topics from the `x-herald-topics-json` header (a JSON array in
 * a string), else the `x-herald-topics` header (a string or an array), else the routing key; `data` from the body (UTF-8); `type` and `messageId` properties
 * give the SSE event type and id. Checked afterwards by `deliverEntries`.
 */
export function toEntry(pos: number, msg: AsyncMessage): LogEntry {
  const headers = msg.headers ?? {};
  const rawTopics = headers[RABBIT_HEADERS.topics];
  const json = jsonTopics(headers[RABBIT_HEADERS.topicsJson]);
  const topics =
    json !== undefined
      ? json
      : rawTopics === undefined
        ? [msg.routingKey]
        : Array.isArray(rawTopics)
          ? rawTopics.map(String)
          : [String(rawTopics)];
  const retry = headers[RABBIT_HEADERS.retry];
  const priv = headers[RABBIT_HEADERS.private];
  const time = Number(headers[RABBIT_HEADERS.time]);
  const token = headers[RABBIT_HEADERS.token];
  const scope = headers[RABBIT_HEADERS.scope];
  return {
    pos,
    control: headers[RABBIT_HEADERS.control] !== undefined,
    time: Number.isFinite(time) && time > 0 ? time : msg.timestamp ? msg.timestamp * 1000 : Date.now(),
    token: typeof token === "string" ? token : undefined,
    input: {
      topics,
      data: bodyText(msg.body),
      type: msg.type || undefined,
      id: msg.messageId || undefined,
      retry: retry === undefined ? undefined : Number(retry),
      private: priv === true || priv === "true" || priv === 1,
      scope: typeof scope === "string" ? scope : undefined,
    },
  };
}

/** The topics of an `x-herald-topics-json` header; undefined when absent or not a JSON array (then checked as no topic). */
function jsonTopics(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(bodyText(value));
    return Array.isArray(parsed) ? parsed.map(String) : [];
  } catch {
    return [];
  }
}
