import { MAX_BATCH_EVENTS } from "../../api/publish-batch.ts";
import { MAX_JSON_DEPTH } from "../../http/body.ts";
import {
  defaultOf,
  header,
  heraldErrors,
  type Json,
  jsonAnswer,
  query,
  schemaRef,
  seedErrors,
  setting,
  sseAnswer,
} from "./parts.ts";

/** Herald's own routes (api/) and the seed article's (`GET /stream`, `POST /broadcast`). */

const SUBSCRIBER = [{}, { heraldBearer: [] }, { heraldCookie: [] }];
const BEARER = [{ heraldBearer: [] }];

const resume = [
  query(
    "lastEventId",
    "resume after this event id, for clients that cannot set headers (the `Last-Event-ID` header wins)",
    { type: "string" },
  ),
  header(
    "Last-Event-ID",
    "resume after this event id: every later event of the stream's topics first, in order, then the live stream (no gap, no duplicate); an id Herald cannot resume from gets the `herald.missed` event first (docs/concepts.md)",
  ),
];

const standsAt = {
  "Last-Event-ID": {
    description:
      "sent when no resume point was asked: where the stream starts, to resume from even before the first event (printable ASCII ids only)",
    schema: { type: "string" },
  },
};

const streamRefusals = {
  unauthorized: `a token was presented and refused (expired, bad signature, ...), even where anonymous subscribers are allowed; or none, with \`HERALD_ALLOW_ANONYMOUS_SUBSCRIBE=false\``,
  too_many_requests: `too many open streams from this client IP: ${setting("maxConnectionsPerIp")}`,
  unavailable: `this node's stream limit, ${setting("maxConnections")}, is reached; or Herald is shutting down; or the JWKS (\`HERALD_JWKS_URL\`) or the bus cannot be reached`,
};

const badJson = `malformed JSON, nested more than ${MAX_JSON_DEPTH} levels deep, or empty`;
const badEvent =
  "a missing `topic` or `data`, an unknown field, a field of the wrong type, an empty or too long topic or too many topics, a control character in a topic, CR, LF or NUL in `id` or `event`, an `id` a Last-Event-ID header cannot carry back (control or format characters, a lone surrogate, a space at an end), `id` equal to `earliest`, a `retry` that is not a whole number";
const publishRefusals = {
  unauthorized: `no token (unless \`HERALD_ALLOW_ANONYMOUS_PUBLISH=true\`), or a refused one`,
  forbidden:
    "the token's `publish` claim does not match every topic of the event, or a topic is in `/.well-known/mercure` (reserved for the hub)",
  unsupported_media_type: "the body is not sent with `Content-Type: application/json`",
  too_many_requests: `over the publish rate of this token (per IP when anonymous): ${setting("publishRate")} events per second, bursts of ${setting("publishBurst")}`,
  unavailable:
    "Herald is shutting down, or the bus cannot store events right now (Redis, RabbitMQ unreachable): nothing was stored",
};

export const API_PATHS: Json = {
  "/events": {
    get: {
      tags: ["herald"],
      operationId: "subscribe",
      summary: "Subscribe to topics (an SSE stream)",
      description:
        "Every event published to any of the topics. Without a token the stream carries public events only; with one, also private events on the topics of its `subscribe` claim, until the token expires.",
      security: SUBSCRIBER,
      parameters: [
        query(
          "ticket",
          "a single-use ticket from `POST /tickets`, instead of a token (never beside an `Authorization` header)",
          { type: "string" },
        ),
        query(
          "announce",
          "`1`: the stream opens with the `herald.stream` event carrying its id, which `POST /streams/{id}/...` takes (live topic changes, token renewal); without it no such event is sent",
          { type: "string", enum: ["1"] },
        ),
        query(
          "matched",
          "`1` (with `announce=1`): each event starts with a comment line naming the selectors that matched it, `: matched 0 2` (indices into the stream's topic list), and a live topic change writes the new list, `: topics [...]`; SSE clients ignore comment lines (docs/streams.md)",
          { type: "string", enum: ["1"] },
        ),
        query(
          "topic",
          `repeated: exact topics, \`*\` (every topic) or prefixes ending in \`/*\`, \`:*\` or \`.*\`; at most ${setting("maxTopics")}`,
          { type: "array", minItems: 1, items: { type: "string", minLength: 1 } },
          true,
        ),
        ...resume,
      ],
      responses: {
        "200": sseAnswer(
          'the stream: with `announce=1`, first the `herald.stream` event (data `{"id", "topics"}`: the id `POST /streams/{id}/...` takes); then the replay after `Last-Event-ID`, then live events',
          standsAt,
        ),
        ...heraldErrors({
          bad_request: `no \`topic\`, more than ${setting("maxTopics")}, or one that is empty, too long or holds a control character; \`matched\` other than \`1\`, or without \`announce=1\``,
          ...streamRefusals,
          too_many_requests: `${streamRefusals.too_many_requests}; or, with \`?ticket=\`, over the control rate of this client IP: ${setting("controlRate")} per second, bursts of ${setting("controlBurst")}`,
        }),
      },
    },
  },
  "/publish": {
    post: {
      tags: ["herald"],
      operationId: "publish",
      summary: "Publish an event",
      security: BEARER,
      requestBody: { required: true, content: { "application/json": { schema: schemaRef("PublishBody") } } },
      responses: {
        "200": jsonAnswer(
          "stored and queued for the subscribers of its topics (a retry gets its first answer again)",
          schemaRef("PublishResult"),
        ),
        ...heraldErrors({
          bad_request: `${badJson}; ${badEvent}`,
          payload_too_large: `the body is over ${setting("maxBodyBytes")}, or the data over ${setting("maxEventBytes")}`,
          ...publishRefusals,
        }),
      },
    },
  },
  "/publish/batch": {
    post: {
      tags: ["herald"],
      operationId: "publishBatch",
      summary: "Publish many events at once",
      description:
        "All or nothing: the events are stored by one bus append, in order, or none is. The publish rate counts each event.",
      security: BEARER,
      requestBody: { required: true, content: { "application/json": { schema: schemaRef("BatchBody") } } },
      responses: {
        "200": jsonAnswer("every event stored, answers in the same order", schemaRef("BatchResult")),
        ...withoutChallenge(
          heraldErrors({
            bad_request: `${badJson}; no \`events\` array, an empty one, more than ${MAX_BATCH_EVENTS} events, or an event that breaks a rule of \`POST /publish\` (the message names it: \`events[3]: ...\`)`,
            payload_too_large: `the body is over ${setting("maxBodyBytes")}, an event's data over ${setting("maxEventBytes")}, or more events than ${setting("publishBurst")} allows at once`,
            ...publishRefusals,
            forbidden: `${publishRefusals.forbidden}, for one of the events (the message names it)`,
            too_many_requests: `${publishRefusals.too_many_requests}: the batch counts as many publishes as it has events, and nothing is stored`,
          }),
        ),
      },
    },
  },
  "/stream": {
    get: {
      tags: ["seed"],
      operationId: "seedStream",
      summary: "The seed's stream: every broadcast (an SSE stream)",
      description: `The events of the broadcast topic, ${setting("broadcastTopic")}. Tokens and resuming work as on \`GET /events\`.`,
      security: SUBSCRIBER,
      parameters: resume,
      responses: {
        "200": sseAnswer("the stream of broadcasts", standsAt),
        ...heraldErrors(streamRefusals),
      },
    },
  },
  "/broadcast": {
    post: {
      tags: ["seed"],
      operationId: "seedBroadcast",
      summary: "The seed's broadcast: send any JSON to every `GET /stream` client",
      description: `The body is sent, as written but compact (whitespace outside strings removed; numbers and string escapes unchanged), as the \`data:\` of an event on the broadcast topic (${defaultOf("broadcastTopic")} by default). Any Content-Type is accepted, as the seed did; the body must be JSON. Answers keep the seed's shape.`,
      security: BEARER,
      requestBody: {
        required: true,
        content: { "application/json": { schema: { description: "any JSON value" } } },
      },
      responses: {
        "200": jsonAnswer("sent", schemaRef("SeedOk")),
        ...seedErrors({
          bad_request: badJson,
          unauthorized: publishRefusals.unauthorized,
          forbidden: "the token may not publish to the broadcast topic",
          payload_too_large: `the body is over ${setting("maxBodyBytes")}, or the data over ${setting("maxEventBytes")}`,
          too_many_requests: publishRefusals.too_many_requests,
          unavailable: publishRefusals.unavailable,
        }),
      },
    },
  },
  "/auth/cookie": {
    post: {
      tags: ["herald"],
      operationId: "setAuthCookie",
      summary: "Keep a subscriber token in a cookie (for browsers' EventSource)",
      description: `Verifies the token and sets it as the HttpOnly cookie streams read (${setting("authCookie")}), with \`Max-Age\` up to the token's \`exp\` (docs/auth.md).`,
      security: BEARER,
      responses: {
        "204": {
          description: "the cookie is set",
          headers: {
            "Set-Cookie": setCookie("<token>; Path=/; HttpOnly; SameSite=Strict[; Secure][; Max-Age=...]"),
          },
        },
        ...heraldErrors({
          unauthorized: "no token, or a refused one",
          unavailable: "the JWKS (`HERALD_JWKS_URL`) cannot be reached right now",
        }),
      },
    },
    delete: {
      tags: ["herald"],
      operationId: "deleteAuthCookie",
      summary: "Remove the subscriber cookie",
      responses: {
        "204": {
          description: "the cookie is removed",
          headers: { "Set-Cookie": setCookie("; ...; Max-Age=0") },
        },
        ...heraldErrors({}),
      },
    },
  },
};

/**
 * `POST /publish/batch` names the refused event in its message: its 403 is a plain error, without
 * the `WWW-Authenticate` challenge of `POST /publish`'s.
 */
function withoutChallenge(responses: Json): Json {
  const { headers: _, ...forbidden } = responses["403"] as Json;
  return { ...responses, "403": forbidden };
}

function setCookie(value: string): Json {
  return {
    description: `\`${defaultOf("authCookie")}=${value}\``,
    required: true,
    schema: { type: "string", pattern: "HttpOnly" },
  };
}
