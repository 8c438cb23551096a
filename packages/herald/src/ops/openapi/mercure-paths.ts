import { MERCURE_PATH, METADATA_PATH } from "../../mercure/index.ts";
import { SUBSCRIPTIONS_PATH } from "../../mercure/subscriptions.ts";
import {
  header,
  type Json,
  jsonAnswer,
  mercureErrors,
  query,
  type Refusals,
  schemaRef,
  setting,
  sseAnswer,
} from "./parts.ts";

/** The Mercure protocol's routes (mercure/): errors are `text/plain`, as the Mercure hub sends them. */

const SUBSCRIBER = [{}, { mercureBearer: [] }, { mercureQuery: [] }, { mercureCookie: [] }];
const JSON_LD = "application/ld+json";

const subscriptionsAccess = {
  unauthorized: "a subscriber key is configured and no valid token was presented",
  forbidden: "the token's `mercure.subscribe` does not match the requested path",
};

/** A subscriptions API operation: 200 JSON-LD with an ETag, 304 for a matching `If-None-Match`. */
function subscriptionsGet(
  operationId: string,
  summary: string,
  body: Json,
  refusals: Refusals,
  params: Json[],
): Json {
  const etag = {
    ETag: {
      description: "the hub's position; unchanged while nothing is published",
      required: true,
      schema: { type: "string" },
    },
  };
  return {
    get: {
      tags: ["mercure"],
      operationId,
      summary,
      security: SUBSCRIBER,
      parameters: [
        ...params,
        header("If-None-Match", "an `ETag` of an earlier answer: 304 while nothing was published since"),
      ],
      responses: {
        "200": { ...jsonAnswer("the active subscriptions", body, JSON_LD), headers: etag },
        "304": {
          description: "nothing was published since the `ETag` given in `If-None-Match`",
          headers: etag,
        },
        ...mercureErrors({
          ...MISDIRECTED,
          ...subscriptionsAccess,
          not_found: "the subscriptions API is off: start Herald with `MERCURE_SUBSCRIPTIONS=true`",
          ...refusals,
        }),
      },
    },
  };
}

const pathParam = (name: string, description: string): Json => ({
  name,
  in: "path",
  required: true,
  description: `${description}, percent-encoded`,
  schema: { type: "string", minLength: 1 },
});
const topicParam = pathParam("topic", "a topic selector");
/** Every Mercure route answers 421 to an origin outside MERCURE_PUBLIC_URLS. */
const MISDIRECTED = {
  misdirected: `${setting("mercurePublicUrls")} is set and the request's origin (scheme and host) is not one of them`,
};
const badEncoding = { bad_request: "a malformed percent-encoding" };

/** The parameters of a subscribe request, in the query component (and, for QUERY, the body too). */
const SUBSCRIBE_PARAMETERS: Json[] = [
  query("match", "repeated: exact topics (`*`: every topic)", {
    type: "array",
    items: { type: "string" },
  }),
  query("match_exact", "repeated: the explicit spelling of `match`", {
    type: "array",
    items: { type: "string" },
  }),
  query(
    "match_urlpattern",
    `repeated: WHATWG URL Patterns (\`https://example.com/books/:id\`), matched in linear time; at most ${setting("maxTemplateSize")} RE2 instructions`,
    { type: "array", items: { type: "string" } },
  ),
  query(
    "topic",
    `Mercure 0.x (compatibility mode), repeated: topic selectors (an exact topic, \`*\`, or an RFC 6570 URI template); at most ${setting("maxTopics")} matchers in all`,
    { type: "array", items: { type: "string", minLength: 1 } },
  ),
  query(
    "last_event_id",
    "resume after this id (`earliest`: all the history holds); the `Last-Event-ID` header wins",
    { type: "string" },
  ),
  query("lastEventID", "Mercure 0.x (compatibility mode): as `last_event_id`", { type: "string" }),
  header("Last-Event-ID", "resume after this id (what EventSource sends when it reconnects)"),
];

/** The answers of a subscribe request (GET, QUERY), with `more` refusals. */
function subscribeAnswers(more: Refusals): Json {
  return {
    "200": sseAnswer("the stream of updates", {
      "Mercure-Last-Event-ID": {
        description:
          "a 1.0 request, when resuming: the id asked for when Herald resumed from it, else `earliest` (an unknown or too old id; the `herald.missed` event says so too)",
        schema: { type: "string" },
      },
      "Last-Event-ID": {
        description: "the same, for a 0.x request",
        schema: { type: "string" },
      },
    }),
    ...mercureErrors({
      ...MISDIRECTED,
      bad_request: `no matcher, more than ${setting("maxTopics")}, one too long or holding a control or format character, an unknown \`match*\` parameter, \`topic\` outside compatibility mode, a URL pattern that does not compile or a URI template / URL pattern over ${setting("maxTemplateSize")}`,
      unauthorized: `a presented token was refused; or none, with ${setting("mercureAnonymous")}`,
      too_many_requests: `too many open streams from this client IP (${setting("maxConnectionsPerIp")}), or too many distinct URI templates (${setting("maxTemplatesPerIp")})`,
      unavailable: `this node's stream limit (${setting("maxConnections")}) is reached, compiled templates fill ${setting("templateCacheBytes")}, Herald is shutting down, or the bus cannot replay`,
      ...more,
    }),
  };
}

export const MERCURE_PATHS: Json = {
  [METADATA_PATH]: {
    get: {
      tags: ["mercure"],
      operationId: "mercureResourceMetadata",
      summary: "The hub's OAuth 2.0 protected-resource metadata (RFC 9728)",
      responses: {
        "200": jsonAnswer("the metadata", schemaRef("ResourceMetadata")),
        ...mercureErrors(MISDIRECTED),
      },
    },
  },
  [MERCURE_PATH]: {
    get: {
      tags: ["mercure"],
      operationId: "mercureSubscribe",
      summary: "Mercure subscribe (an SSE stream)",
      description:
        "Mercure 1.0 (`match`, `match_exact`, `match_urlpattern`), or 0.x (`topic`, with `MERCURE_PROTOCOL_VERSION_COMPATIBILITY=8`). Updates whose canonical topic or an alternate matches a matcher; private ones only when a topic also matches the token's subscribe grants. At least one matcher; any other parameter name starting with `match` is a 400. The stream closes when the token expires, and after `MERCURE_WRITE_TIMEOUT` (600s by default; the client resumes). `QUERY` takes the same parameters in a form body (`x-query` below).",
      security: SUBSCRIBER,
      parameters: SUBSCRIBE_PARAMETERS,
      responses: subscribeAnswers({}),
    },
    "x-query": {
      tags: ["mercure"],
      operationId: "mercureSubscribeQuery",
      summary: "Mercure subscribe with the HTTP QUERY method (RFC 10008), the parameters in the body",
      description:
        "`QUERY` (an OpenAPI 3.1 document cannot name this method but as an extension): as `GET`, with the parameters (`match`, `match_exact`, `match_urlpattern`, `topic`, `last_event_id`) also in an `application/x-www-form-urlencoded` body, for matcher lists too long for a URL. The subscription has the matchers of the query component and of the body; a `last_event_id` of the query component wins over the body's, the `Last-Event-ID` header over both. An empty body needs no Content-Type.",
      security: SUBSCRIBER,
      parameters: SUBSCRIBE_PARAMETERS,
      requestBody: {
        required: false,
        content: {
          "application/x-www-form-urlencoded": {
            schema: schemaRef("MercureSubscribeForm"),
            encoding: {
              match: { style: "form", explode: true },
              match_exact: { style: "form", explode: true },
              match_urlpattern: { style: "form", explode: true },
              topic: { style: "form", explode: true },
            },
          },
        },
      },
      responses: subscribeAnswers({
        payload_too_large: `the body is over ${setting("maxBodyBytes")}`,
        unsupported_media_type:
          "a body that is not `application/x-www-form-urlencoded` (or has no Content-Type)",
      }),
    },
    post: {
      tags: ["mercure"],
      operationId: "mercurePublish",
      summary: "Mercure publish",
      description:
        "The update goes through Herald's hub: subscribers of `GET /events` for its topics receive it too. A cookie-authorized publish must come from an origin of `MERCURE_PUBLISH_ORIGINS`.",
      security: [{ mercureBearer: [] }, { mercureQuery: [] }, { mercureCookie: [] }],
      requestBody: {
        required: true,
        content: {
          "application/x-www-form-urlencoded": {
            schema: schemaRef("MercureUpdate"),
            encoding: { topic: { style: "form", explode: true } },
          },
        },
      },
      responses: {
        "200": {
          description: "published: the update's id",
          content: { "text/plain": { schema: { type: "string", minLength: 1 } } },
        },
        ...mercureErrors({
          ...MISDIRECTED,
          bad_request:
            "no `topic`, an `id` starting with `#`, `earliest` or of Herald's own form, a bad `retry`, a control character in a topic, too many topics",
          unauthorized: "no token, a refused one, or publishing is off (no Mercure or Herald key configured)",
          forbidden:
            "a topic not matched by the token's `mercure.publish` (nothing is published), a topic in `/.well-known/mercure`, or a cookie publish from an origin not allowed",
          payload_too_large: `the body is over ${setting("maxBodyBytes")}, or the data over ${setting("maxEventBytes")}`,
          unsupported_media_type: "the body is not `application/x-www-form-urlencoded`",
          too_many_requests: `over the publish rate of this token: ${setting("publishRate")} per second`,
          unavailable: "Herald is shutting down, or the bus cannot store events right now",
        }),
      },
    },
  },
  [SUBSCRIPTIONS_PATH]: subscriptionsGet(
    "mercureSubscriptions",
    "Every active Mercure subscription",
    schemaRef("Subscriptions"),
    {},
    [],
  ),
  [`${SUBSCRIPTIONS_PATH}/{topic}`]: subscriptionsGet(
    "mercureTopicSubscriptions",
    "The active subscriptions of one topic selector",
    schemaRef("Subscriptions"),
    badEncoding,
    [topicParam],
  ),
  [`${SUBSCRIPTIONS_PATH}/{topic}/{subscriber}`]: subscriptionsGet(
    "mercureSubscription",
    "One active subscription",
    { type: "object", $ref: "#/components/schemas/Subscription", required: ["@context", "lastEventID"] },
    {
      ...badEncoding,
      not_found:
        "the subscriptions API is off (`MERCURE_SUBSCRIPTIONS=true` turns it on), or no such subscription is active",
    },
    [topicParam, pathParam("subscriber", "the subscriber's id (`urn:uuid:...`)")],
  ),
};
