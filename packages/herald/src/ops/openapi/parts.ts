import type { HeraldConfig } from "../../config/settings.ts";
import { SETTINGS } from "../../config/settings.ts";
import type { HeraldErrorCode } from "../../core/errors.ts";
import { STATUS_OF } from "../../http/errors.ts";

/**
 * Building blocks of the OpenAPI description (ops/openapi/): every answer of one family of routes
 * is made by one function here, so the description says what the code sends, the same way
 * everywhere. Statuses come from the server's one code map (`STATUS_OF`), defaults from the
 * settings table.
 */

/** An OpenAPI object (operation, response, schema, ...) as plain JSON. */
export type Json = { [key: string]: unknown };

/** A `$ref` to a schema of `components.schemas`. */
export const schemaRef = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

/** "`HERALD_MAX_TOPICS` (default 32)": a setting named as operators set it, with its default. */
export function setting(key: keyof HeraldConfig): string {
  const spec = SETTINGS[key];
  return `\`${spec.env}\` (default ${spec.default === "" ? "none" : spec.default})`;
}

/** The default value of a setting, as text (cookie names, the broadcast topic). */
export function defaultOf(key: keyof HeraldConfig): string {
  return SETTINGS[key].default;
}

const RETRY_AFTER: Json = {
  description: "seconds to wait before retrying",
  schema: { type: "string", pattern: "^[0-9]+$" },
};
const WWW_AUTHENTICATE: Json = {
  description:
    'RFC 6750 challenge: `Bearer realm="herald"`, with `error="invalid_token"` (and `error_description`, the reason) when a token was refused, `error="insufficient_scope"` on a 403',
  required: true,
  schema: { type: "string", pattern: "^Bearer realm=" },
};

/** Headers an error answer of `code` carries (`errorHeaders` in http/errors.ts). */
function headersOf(code: HeraldErrorCode): Json | undefined {
  switch (code) {
    case "unauthorized":
    case "forbidden":
      return { "WWW-Authenticate": WWW_AUTHENTICATE };
    case "too_many_requests":
      return { "Retry-After": { ...RETRY_AFTER, required: true } };
    case "unavailable":
      return {
        "Retry-After": {
          ...RETRY_AFTER,
          description: `${RETRY_AFTER.description} (absent when the hub itself is closing)`,
        },
      };
    default:
      return undefined;
  }
}

/** What each failing request may be answered, by error code: the `description` of each answer. */
export type Refusals = Partial<Record<HeraldErrorCode, string>>;

const INTERNAL = "an unexpected error; the server logs it (`request failed`)";

/** Answers by status for `refusals`, each made by `answer`; 500 is added to every operation. */
function answers(refusals: Refusals, answer: (code: HeraldErrorCode, description: string) => Json): Json {
  const out: Json = {};
  const all: Refusals = { ...refusals, internal: refusals.internal ?? INTERNAL };
  for (const [code, description] of Object.entries(all) as [HeraldErrorCode, string][]) {
    out[String(STATUS_OF[code])] = answer(code, description);
  }
  return out;
}

/** Herald's error answers: JSON `{"error": "<code>", "message": "..."}` (`sendError`). */
export function heraldErrors(refusals: Refusals): Json {
  return answers(refusals, (code, description) => heraldError(code, description));
}

/** One Herald error answer: the `Error` body with `error` fixed to `code`. */
export function heraldError(code: HeraldErrorCode, description: string): Json {
  return withHeaders(code, { description, content: { "application/json": { schema: errorBody(code) } } });
}

const errorBody = (code: HeraldErrorCode): Json => ({
  type: "object",
  $ref: "#/components/schemas/Error",
  properties: { error: { const: code } },
});

const seedErrorBody = (code: HeraldErrorCode): Json => ({
  type: "object",
  $ref: "#/components/schemas/SeedError",
  properties: { code: { const: STATUS_OF[code] } },
});

/**
 * The seed's `POST /broadcast` answers errors in its own shape (`{"success": false, "code", "message"}`),
 * except a 500 and the 503 of a hub shutting down (refused before the route runs): Herald's shape.
 */
export function seedErrors(refusals: Refusals): Json {
  return answers(refusals, (code, description) => {
    if (code === "internal") return heraldError(code, `${description}; in Herald's shape, not the seed's`);
    const schema =
      code === "unavailable"
        ? { oneOf: [seedErrorBody(code), { ...errorBody(code), description: "while shutting down" }] }
        : seedErrorBody(code);
    return withHeaders(code, { description, content: { "application/json": { schema } } });
  });
}

const MERCURE_CHALLENGE: Json = {
  description:
    'RFC 6750 challenge with the RFC 9728 `resource_metadata`: `Bearer resource_metadata="..."` when no token was presented, else `Bearer error="invalid_token"` (401) or `error="insufficient_scope"` (403), with `error_description` (the reason) and `resource_metadata`',
  required: true,
  schema: { type: "string", pattern: "^Bearer (error=|resource_metadata=)" },
};

/**
 * Mercure routes answer errors as the Mercure hub does: the message as `text/plain`
 * (`sendMercureError`), 401 and 403 with Mercure 1.0's challenge (`MERCURE_CHALLENGE`).
 */
export function mercureErrors(refusals: Refusals): Json {
  return answers(refusals, (code, description) => {
    const response = withHeaders(code, {
      description,
      content: { "text/plain": { schema: schemaRef("MercureError") } },
    });
    if (code !== "unauthorized" && code !== "forbidden") return response;
    return { ...response, headers: { "WWW-Authenticate": MERCURE_CHALLENGE } };
  });
}

function withHeaders(code: HeraldErrorCode, response: Json): Json {
  const headers = headersOf(code);
  return headers === undefined ? response : { description: response.description, headers, ...response };
}

/** A `200` answer with a JSON body. */
export function jsonAnswer(description: string, schema: Json, mediaType = "application/json"): Json {
  return { description, content: { [mediaType]: { schema } } };
}

/** The headers of every event stream (`SSE_HEADERS`), plus `extra`. */
export function sseAnswer(description: string, extra: Json = {}): Json {
  return {
    description,
    headers: {
      "Cache-Control": { description: "never cached", required: true, schema: { type: "string" } },
      "X-Accel-Buffering": {
        description: "`no`: nginx must not buffer the stream",
        required: true,
        schema: { const: "no" },
      },
      ...extra,
    },
    content: { "text/event-stream": { schema: schemaRef("EventStream") } },
  };
}

/** A query parameter. */
export function query(name: string, description: string, schema: Json, required = false): Json {
  return { name, in: "query", required, description, schema };
}

/** A request header. */
export function header(name: string, description: string): Json {
  return { name, in: "header", required: false, description, schema: { type: "string" } };
}
