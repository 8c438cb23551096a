import { TICKET_SECONDS } from "../../api/stream-control.ts";
import { heraldErrors, type Json, jsonAnswer, setting } from "./parts.ts";

/** Live changes of an open `GET /events` stream, and tickets (docs/streams.md). */

const SAME_TOKEN = [{}, { heraldBearer: [] }, { heraldCookie: [] }];
const BEARER = [{ heraldBearer: [] }];
const streamId: Json = {
  name: "id",
  in: "path",
  required: true,
  description: "the stream's id, from its opening `herald.stream` event",
  schema: { type: "string", pattern: "^[A-Za-z0-9_-]{8}\\.[A-Za-z0-9_-]{22}$" },
};
const topicList: Json = { type: "array", items: { type: "string", minLength: 1 } };
const notFound = "no open stream has this id: it ended, or its node did not answer within 5 s";
/** The control rate (docs/limits.md): every request that appends a control record counts one. */
export const controlRate = `over the control rate of this token (per IP when anonymous): ${setting("controlRate")} requests per second, bursts of ${setting("controlBurst")}; tickets (issued and used), topic changes and token renewals count together`;

export const STREAM_PATHS: Json = {
  "/streams/{id}/topics": {
    post: {
      tags: ["herald"],
      operationId: "changeStreamTopics",
      summary: "Add or remove topics of an open stream, without reconnecting",
      description:
        "With the token the stream holds (the one it was opened with, or its last renewal; none for a stream opened without a token). Answered once the change is in effect: every event stored before it was filtered by the old topics, every event after it by the new ones (none lost, none twice). Works from any worker and any node.",
      security: SAME_TOKEN,
      parameters: [streamId],
      requestBody: {
        required: true,
        content: {
          "application/json": {
            schema: {
              type: "object",
              additionalProperties: false,
              properties: { add: topicList, remove: topicList },
            },
          },
        },
      },
      responses: {
        "200": jsonAnswer("the change is in effect: the stream's topics now", {
          type: "object",
          required: ["id", "topics"],
          additionalProperties: false,
          properties: { id: { type: "string" }, topics: { ...topicList, minItems: 1 } },
        }),
        ...heraldErrors({
          bad_request: `malformed JSON; \`add\`/\`remove\` not lists of topics, both empty, a topic empty, too long, with a control character or reserved; or the change would leave no topic or more than ${setting("maxTopics")}`,
          unauthorized: "a refused token; or none for a stream opened with one",
          forbidden: "not the token the stream holds; or a token for a stream opened without one",
          not_found: notFound,
          payload_too_large: `the body is over ${setting("maxBodyBytes")}`,
          unsupported_media_type: "the body is not sent with `Content-Type: application/json`",
          too_many_requests: controlRate,
          unavailable: "the bus cannot store the change right now, or Herald is shutting down",
        }),
      },
    },
  },
  "/streams/{id}/token": {
    post: {
      tags: ["herald"],
      operationId: "renewStreamToken",
      summary: "Renew an open stream's token before it expires",
      description:
        "The new token (same `sub`, a `subscribe` claim covering the stream's private grants) replaces the stream's: its expiry becomes the stream's end. A stream not renewed still ends when its token expires.",
      security: BEARER,
      parameters: [streamId],
      requestBody: {
        required: false,
        description:
          "none, or a JSON object (`{}`; its fields are not read): the new token goes in the Authorization header",
        content: { "application/json": { schema: { type: "object" } } },
      },
      responses: {
        "200": jsonAnswer("renewed: the stream now ends at `exp` (Unix seconds; null: never)", {
          type: "object",
          required: ["id", "exp"],
          additionalProperties: false,
          properties: { id: { type: "string" }, exp: { type: ["integer", "null"] } },
        }),
        ...heraldErrors({
          bad_request: "a body that is not empty nor a JSON object",
          unauthorized: "no token, or a refused one",
          forbidden:
            "the token is for another `sub` (or has none), grants fewer private topics than the stream holds, or the stream was opened without a token",
          not_found: notFound,
          payload_too_large: `the body is over ${setting("maxBodyBytes")}`,
          unsupported_media_type:
            "a body that is not empty and not sent with `Content-Type: application/json`",
          too_many_requests: controlRate,
          unavailable: "the bus cannot store the renewal right now, or Herald is shutting down",
        }),
      },
    },
  },
  "/tickets": {
    post: {
      tags: ["herald"],
      operationId: "issueTicket",
      summary: "A short-lived, single-use ticket for `GET /events?ticket=`",
      description: `For browsers using the native EventSource: the app's server asks with its subscriber token and hands the ticket to the page; the ticket opens one stream, once in the whole cluster, within ${TICKET_SECONDS} s (never past the token's own \`exp\`), with the token's grants. A used, unknown or expired ticket is a 401.`,
      security: BEARER,
      responses: {
        "200": jsonAnswer("the ticket", {
          type: "object",
          required: ["ticket", "expiresIn"],
          additionalProperties: false,
          properties: {
            ticket: { type: "string", minLength: 22 },
            expiresIn: { type: "integer", minimum: 0, maximum: TICKET_SECONDS },
          },
        }),
        ...heraldErrors({
          unauthorized: "no token, or a refused one",
          too_many_requests: controlRate,
          unavailable: "the bus cannot store the ticket right now, or Herald is shutting down",
        }),
      },
    },
  },
};
