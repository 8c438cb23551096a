import { MAX_BATCH_EVENTS } from "../../api/publish-batch.ts";
import { STATUS_OF } from "../../http/errors.ts";
import { type Json, schemaRef, setting } from "./parts.ts";

const count: Json = { type: "integer", minimum: 0 };
const text: Json = { type: "string" };
/** A JSON field the server reads as absent when it is null (`optionalString` ... in api/publish-body.ts). */
const orNull = (schema: Json, description: string): Json => ({
  description,
  anyOf: [schema, { type: "null" }],
});

/** A topic of a publish: length and count are limited by settings, stated rather than fixed here. */
const topics: Json = {
  description: `one topic, or several (the event reaches subscribers of any of them); at most ${setting("maxTopics")} topics of at most ${setting("maxTopicLength")} characters, no control characters`,
  oneOf: [
    { type: "string", minLength: 1 },
    { type: "array", minItems: 1, items: { type: "string", minLength: 1 } },
  ],
};

const PublishBody: Json = {
  type: "object",
  description: "One event (`POST /publish`, and each event of `POST /publish/batch`).",
  required: ["topic", "data"],
  additionalProperties: false,
  properties: {
    topic: topics,
    data: {
      description: `any JSON value: a string is sent as is (its escapes decoded); any other value as written, made compact (whitespace outside strings removed; numbers keep their digits and form, strings their escapes); at most ${setting("maxEventBytes")} of UTF-8 (413 above)`,
    },
    event: orNull(
      { type: "string", minLength: 1, maxLength: 256 },
      "the SSE `event:` field (the type a client listens for); no CR, LF or NUL",
    ),
    id: orNull(
      { type: "string", minLength: 1, maxLength: 256, not: { const: "earliest" } },
      "your own event id (no control or format character, no lone surrogate, no space or tab at either end: a Last-Event-ID header carries it back; not `earliest`); the same id and content again from the same publisher is a retry, answered as the first time and not delivered twice (docs/concepts.md)",
    ),
    retry: orNull({ type: "integer", minimum: 0 }, "the SSE `retry:` field, in milliseconds"),
    private: orNull(
      { type: "boolean" },
      "only subscribers whose token's `subscribe` claim matches one of its topics receive it",
    ),
  },
};

const PublishResult: Json = {
  type: "object",
  required: ["id", "queued"],
  additionalProperties: false,
  properties: {
    id: { ...text, minLength: 1, description: "the event's id: yours, or one Herald made (`<epoch>-<n>`)" },
    queued: {
      ...count,
      description:
        "local subscribers the event was queued for (this node; with --workers, the worker that took the publish)",
    },
  },
};

const closeReasons = ["client-closed", "slow", "shutdown", "expired", "error"];

/** `ops/figures.ts`: what GET /status answers (and GET /metrics exports). */
const Figures: Json = {
  type: "object",
  description: "The hub's figures (docs/metrics.md says what each counts).",
  required: [
    "connections",
    "subscriptions",
    "published",
    "delivered",
    "dropped",
    "replayed",
    "slowDisconnects",
    "missedSignals",
    "connectionsOpened",
    "connectionsClosed",
    "historySize",
    "busLagSeconds",
    "publishedByTopic",
  ],
  properties: {
    connections: count,
    subscriptions: count,
    published: count,
    delivered: count,
    dropped: count,
    replayed: count,
    slowDisconnects: count,
    missedSignals: count,
    connectionsOpened: count,
    connectionsClosed: {
      type: "object",
      required: closeReasons,
      additionalProperties: false,
      properties: Object.fromEntries(closeReasons.map((reason) => [reason, count])),
    },
    historySize: count,
    busLagSeconds: { type: "number", minimum: 0 },
    publishedByTopic: {
      type: "object",
      description: `events per topic, for the topics of ${setting("metricsTopics")} only`,
      additionalProperties: count,
    },
  },
};

const Status: Json = {
  type: "object",
  $ref: "#/components/schemas/Figures",
  required: ["time", "uptimeSeconds"],
  properties: {
    time: { ...count, description: "when the figures were read (ms since the Unix epoch)" },
    uptimeSeconds: count,
    workers: {
      ...count,
      description: "with `--workers N`: how many workers answered (their figures are summed)",
    },
    perWorker: {
      type: "array",
      description: "with `--workers N`: each answering worker's own figures",
      items: {
        type: "object",
        $ref: "#/components/schemas/Figures",
        required: ["pid"],
        properties: { pid: count },
        unevaluatedProperties: false,
      },
    },
  },
  unevaluatedProperties: false,
};

const Subscription: Json = {
  type: "object",
  description: "One active Mercure subscription (spec, Subscription Events).",
  required: ["id", "type", "topic", "subscriber", "active"],
  properties: {
    "@context": { const: "https://mercure.rocks/" },
    id: {
      ...text,
      description: "`/.well-known/mercure/subscriptions/{topic}/{subscriber}`, both percent-encoded",
    },
    type: { const: "Subscription" },
    topic: { ...text, description: "the topic selector subscribed with" },
    subscriber: { ...text, pattern: "^urn:uuid:" },
    active: { type: "boolean" },
    payload: { description: "the subscriber token's `mercure.payload`" },
    lastEventID: text,
  },
  additionalProperties: false,
};

/** The `components.schemas` of the description. */
export const SCHEMAS: Json = {
  Error: {
    type: "object",
    description:
      "Herald's error body. `message` says what was wrong and how to fix it; `error` is the code, one per status.",
    required: ["error", "message"],
    additionalProperties: false,
    properties: {
      error: { enum: Object.keys(STATUS_OF) },
      message: { type: "string", minLength: 1 },
    },
  },
  SeedError: {
    type: "object",
    description:
      "An error of the seed's `POST /broadcast`, in the seed article's shape; `code` is the HTTP status.",
    required: ["success", "code", "message"],
    additionalProperties: false,
    properties: {
      success: { const: false },
      code: { type: "integer" },
      message: { type: "string", minLength: 1 },
    },
  },
  SeedOk: {
    type: "object",
    required: ["success", "code"],
    additionalProperties: false,
    properties: { success: { const: true }, code: { const: 200 } },
  },
  MercureError: {
    type: "string",
    minLength: 1,
    description: "The message, as plain text ending with a line break (Mercure clients read the status).",
  },
  EventStream: {
    type: "string",
    description:
      "A Server-Sent Events stream (docs/wire-format.md): it opens with the comment `: ok` and a `retry:` hint, then sends `id:`, `event:` and `data:` fields per event, and `: heartbeat` comments while idle. It stays open until the client leaves, the token expires (`: token expired`) or the server stops.",
  },
  PublishBody,
  PublishResult,
  BatchBody: {
    type: "object",
    required: ["events"],
    additionalProperties: false,
    properties: {
      events: { type: "array", minItems: 1, maxItems: MAX_BATCH_EVENTS, items: schemaRef("PublishBody") },
    },
  },
  BatchResult: {
    type: "object",
    required: ["results"],
    additionalProperties: false,
    properties: {
      results: {
        type: "array",
        description: "one per event, in the same order",
        items: schemaRef("PublishResult"),
      },
    },
  },
  Figures,
  Status,
  Subscription,
  Subscriptions: {
    type: "object",
    description: "The active subscriptions (spec, Subscription API).",
    required: ["@context", "id", "type", "lastEventID", "subscriptions"],
    additionalProperties: false,
    properties: {
      "@context": { const: "https://mercure.rocks/" },
      id: { ...text, description: "the requested path" },
      type: { const: "Subscriptions" },
      lastEventID: {
        ...text,
        description:
          "the hub's position (`<epoch>-<n>`, `earliest` before any event): subscribe to subscription events from it to miss nothing",
      },
      subscriptions: { type: "array", items: schemaRef("Subscription") },
    },
  },
  ResourceMetadata: {
    type: "object",
    description: "RFC 9728 protected-resource metadata with Mercure's members (docs/mercure.md, Discovery).",
    required: ["resource", "authorization_details_types_supported", "bearer_methods_supported"],
    properties: {
      resource: { ...text, description: "the resource identifier: the `aud` of access tokens" },
      authorization_servers: {
        type: "array",
        minItems: 1,
        items: text,
        description: "the issuers of `MERCURE_AUTHORIZATION_SERVERS`; absent when none is set",
      },
      authorization_details_types_supported: { const: ["https://mercure.rocks/authorization-detail"] },
      bearer_methods_supported: { const: ["header"] },
      mercure_cookie: { ...text, description: "the cookie that may carry the access token" },
      mercure_matcher_types_supported: { const: ["exact", "urlpattern"] },
      mercure_subscriptions: { const: true },
    },
    additionalProperties: false,
  },
  MercureSubscribeForm: {
    type: "object",
    description:
      "The parameters of a `QUERY` subscription, form-encoded (docs/mercure.md); joined to those of the query component.",
    properties: {
      match: { oneOf: [text, { type: "array", items: text }], description: "repeatable: exact topics" },
      match_exact: { oneOf: [text, { type: "array", items: text }], description: "as `match`" },
      match_urlpattern: {
        oneOf: [text, { type: "array", items: text }],
        description: "repeatable: WHATWG URL Patterns",
      },
      topic: {
        oneOf: [text, { type: "array", items: text }],
        description: "Mercure 0.x (compatibility mode), repeatable: topic selectors",
      },
      last_event_id: { ...text, description: "resume after this id (the query component's wins)" },
    },
  },
  MercureUpdate: {
    type: "object",
    description: "A Mercure update, form-encoded (docs/mercure.md).",
    required: ["topic"],
    properties: {
      topic: {
        description: "repeatable: the first is the canonical topic, the others alternates",
        oneOf: [text, { type: "array", minItems: 1, items: text }],
      },
      data: { ...text, description: "the content; line breaks become several `data:` lines" },
      private: {
        ...text,
        description: "present, with any value: only authorized subscribers get the update",
      },
      id: { ...text, pattern: "^[^#]", description: "the SSE id; absent: `urn:uuid:<v4>`" },
      type: { ...text, description: "the SSE `event:`" },
      retry: { ...text, pattern: "^[0-9]{1,15}$", description: "the SSE `retry:`, in milliseconds" },
    },
  },
  Health: {
    type: "object",
    required: ["status"],
    additionalProperties: false,
    properties: { status: { const: "ok" } },
  },
  Readiness: {
    type: "object",
    required: ["ready"],
    additionalProperties: false,
    properties: { ready: { type: "boolean" }, reason: { type: "string", minLength: 1 } },
  },
  OpenApi: {
    type: "object",
    description: "This document.",
    required: ["openapi", "info", "paths", "components"],
    properties: {
      openapi: { type: "string", pattern: "^3\\.1\\." },
      info: { type: "object" },
      paths: { type: "object" },
      components: { type: "object" },
    },
  },
};
