import { WEBHOOK_EVENTS } from "../../webhooks/events.ts";
import { count, duration, presenceSelectors, text, url, webhookEvents } from "../kinds.ts";
import type { Settings } from "../setting.ts";

/** Presence and webhooks: who is on a topic, and HTTP calls when that changes (docs/presence.md, docs/webhooks.md). */
export const PRESENCE = {
  presence: {
    flag: "presence",
    env: "HERALD_PRESENCE",
    kind: presenceSelectors,
    default: "",
    help: "comma-separated topic selectors presence is on for (e.g. rooms/*,prices); empty = off (with --demo and no --presence: prices)",
  },
  presenceHeartbeatMs: {
    flag: "presence-heartbeat",
    env: "HERALD_PRESENCE_HEARTBEAT",
    kind: duration(100),
    default: "5s",
    help: "how often each node renews its presence entries; a dead or stopped node's entries are gone within 3 of them",
  },
  webhookUrl: {
    flag: "webhook-url",
    env: "HERALD_WEBHOOK_URL",
    kind: url,
    default: "",
    help: "URL that receives a signed POST for each presence change of a watched topic (user:password@ is sent as Basic auth); empty = no webhooks",
  },
  webhookSecret: {
    flag: "webhook-secret",
    env: "HERALD_WEBHOOK_SECRET",
    kind: text,
    default: "",
    help: "secret of the Herald-Signature header (HMAC-SHA256); required with --webhook-url",
  },
  webhookEvents: {
    flag: "webhook-events",
    env: "HERALD_WEBHOOK_EVENTS",
    kind: webhookEvents,
    default: WEBHOOK_EVENTS.join(","),
    help: `events sent, among ${WEBHOOK_EVENTS.join(", ")}`,
  },
  webhookTimeoutMs: {
    flag: "webhook-timeout",
    env: "HERALD_WEBHOOK_TIMEOUT",
    kind: duration(100),
    default: "5s",
    help: "longest wait for the receiver's answer to one attempt (then it counts as failed and is retried)",
  },
  webhookAttempts: {
    flag: "webhook-attempts",
    env: "HERALD_WEBHOOK_ATTEMPTS",
    kind: count,
    default: "6",
    help: "attempts per event (backoff 0.5 s doubling up to 30 s, with jitter) before it is dropped",
  },
  webhookMaxQueue: {
    flag: "webhook-max-queue",
    env: "HERALD_WEBHOOK_MAX_QUEUE",
    kind: count,
    default: "10000",
    help: "most events waiting for the receiver; past it new events are dropped (counted in /metrics)",
  },
} satisfies Settings;
