import { heraldErrors, type Json, jsonAnswer, query } from "./parts.ts";

/** Presence (presence/, docs/presence.md). */
export const PRESENCE_PATHS: Json = {
  "/presence": {
    get: {
      tags: ["herald"],
      operationId: "presence",
      summary: "Who is on a topic, for the whole cluster",
      description:
        "The streams subscribed to the topic on every node (count), and the distinct `sub` of their tokens (streams without one are only counted). On for the topics `--presence` selects. Readable with a token whose subscribe or publish claim matches the topic, or by anyone when anonymous subscribers are allowed.",
      security: [{}, { heraldBearer: [] }, { heraldCookie: [] }],
      parameters: [query("topic", "the topic (an exact name)", { type: "string", minLength: 1 }, true)],
      responses: {
        "200": jsonAnswer("the topic's presence", {
          type: "object",
          required: ["topic", "count", "subscribers"],
          additionalProperties: false,
          properties: {
            topic: { type: "string" },
            count: { type: "integer", minimum: 0 },
            subscribers: { type: "array", items: { type: "string" }, uniqueItems: true },
          },
        }),
        ...heraldErrors({
          bad_request: "no `topic`",
          unauthorized: "no token, and anonymous subscribers are refused",
          forbidden: "the token's claims do not match the topic, and anonymous subscribers are refused",
          not_found: "presence is not on for this topic (`--presence`)",
        }),
      },
    },
  },
};
