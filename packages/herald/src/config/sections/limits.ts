import { bool, count, duration, size } from "../kinds.ts";
import type { Settings } from "../setting.ts";

/** Limits: sizes, counts, rates and timeouts that protect the node (docs/limits.md). */
export const LIMITS = {
  maxBodyBytes: {
    flag: "max-body",
    env: "HERALD_MAX_BODY",
    kind: size(1024),
    default: "1MiB",
    help: "largest accepted request body (413 above it)",
  },
  maxEventBytes: {
    flag: "max-event-size",
    env: "HERALD_MAX_EVENT_SIZE",
    kind: size(1),
    default: "256KiB",
    help: "largest event data, in UTF-8 bytes (413 above it)",
  },
  maxBufferedBytes: {
    flag: "max-buffered",
    env: "HERALD_MAX_BUFFERED",
    kind: size(1024),
    default: "1MiB",
    help: "outgoing bytes buffered for one subscriber before it is disconnected as too slow",
  },
  maxTopics: {
    flag: "max-topics",
    env: "HERALD_MAX_TOPICS",
    kind: count,
    default: "32",
    help: "most topics in one subscription or one event",
  },
  maxTopicLength: {
    flag: "max-topic-length",
    env: "HERALD_MAX_TOPIC_LENGTH",
    kind: count,
    default: "256",
    help: "longest topic, in characters",
  },
  maxConnections: {
    flag: "max-connections",
    env: "HERALD_MAX_CONNECTIONS",
    kind: count,
    default: "10000",
    help: "most open event streams on this node (503 + Retry-After above it)",
  },
  maxConnectionsPerIp: {
    flag: "max-connections-per-ip",
    env: "HERALD_MAX_CONNECTIONS_PER_IP",
    kind: count,
    default: "100",
    help: "most open event streams from one client IP (429 + Retry-After above it)",
  },
  trustProxy: {
    flag: "trust-proxy",
    env: "HERALD_TRUST_PROXY",
    kind: bool,
    default: "false",
    help: "take the client IP from the last X-Forwarded-For entry (only behind a proxy that sets it)",
  },
  publishRate: {
    flag: "publish-rate",
    env: "HERALD_PUBLISH_RATE",
    kind: count,
    default: "10000",
    help: "publishes per second allowed per token (per IP when anonymous); 429 + Retry-After above it",
  },
  publishBurst: {
    flag: "publish-burst",
    env: "HERALD_PUBLISH_BURST",
    kind: count,
    default: "50000",
    help: "publishes allowed at once before the publish rate applies",
  },
  controlRate: {
    flag: "control-rate",
    env: "HERALD_CONTROL_RATE",
    kind: count,
    default: "10",
    help: "tickets, stream topic changes and token renewals (each appends a record to the bus log) per second allowed per token (per IP when anonymous); 429 + Retry-After above it",
  },
  controlBurst: {
    flag: "control-burst",
    env: "HERALD_CONTROL_BURST",
    kind: count,
    default: "50",
    help: "tickets, stream topic changes and token renewals allowed at once before the control rate applies",
  },
  headersTimeoutMs: {
    flag: "headers-timeout",
    env: "HERALD_HEADERS_TIMEOUT",
    kind: duration(100),
    default: "10s",
    help: "longest time a client may take to send request headers (slow-loris cut-off, 408; also closes connections that send nothing)",
  },
  requestTimeoutMs: {
    flag: "request-timeout",
    env: "HERALD_REQUEST_TIMEOUT",
    kind: duration(100),
    default: "30s",
    help: "longest time a client may take to send a whole request (headers and body)",
  },
} satisfies Settings;
