import { readFileSync } from "node:fs";
import { API_PATHS } from "./api-paths.ts";
import { MERCURE_PATHS } from "./mercure-paths.ts";
import { OPS_PATHS } from "./ops-paths.ts";
import { defaultOf, heraldError, type Json } from "./parts.ts";
import { PRESENCE_PATHS } from "./presence-paths.ts";
import { SCHEMAS } from "./schemas.ts";
import { STREAM_PATHS } from "./stream-paths.ts";

/**
 * The OpenAPI 3.1 description of Herald's HTTP API, built from these modules: served at
 * `GET /openapi.json` and written to docs/openapi.json by `npm run openapi`. Tests
 * (test/openapi/) check every answer of a running Herald against it, that it lists exactly the
 * routes the server answers, and that docs/openapi.json is this document.
 */

const DESCRIPTION = `A Server-Sent Events hub: publish an event over HTTP, every subscriber of its topics gets it (docs/http-api.md).

Three APIs share one hub (the same topics, history and limits):
- **Herald's** (\`/events\`, \`/publish\`, \`/publish/batch\`, \`/auth/cookie\`) and the operations routes: errors are JSON \`{"error": "<code>", "message": "<what is wrong and how to fix it>"}\`, one code per status;
- **the seed article's** (\`GET /stream\`, \`POST /broadcast\`): \`/broadcast\` answers in the seed's shape, \`{"success": false, "code": <status>, "message": "..."}\`;
- **Mercure's** (\`/.well-known/mercure\`, docs/mercure.md): errors are \`text/plain\`, as the Mercure hub sends them.

On every path:
- \`HEAD\` is answered as \`GET\`, without a body; \`OPTIONS\` (a CORS preflight) with 204 and \`Allow\` (docs/http-api.md#cors).
- A path Herald does not serve is a 404 (\`NotFound\` below, the message lists the routes), another method on a path it serves a 405 with \`Allow\` (\`MethodNotAllowed\`), a request target that is no URL a 400 (\`BadTarget\`); all three JSON, Mercure paths included (but a path of more than two segments under \`/.well-known/mercure/subscriptions/\` is a \`text/plain\` 404).
- Bytes that are no HTTP/1.1 request are a 400 (\`Malformed\`; so is an HTTP/1.1 request without \`Host\`, and \`CONNECT\`), a request not received in time a 408 (\`RequestTimeout\`: its headers within \`HERALD_HEADERS_TIMEOUT\`, all of it within \`HERALD_REQUEST_TIMEOUT\`; a connection that sends nothing too), an \`Expect\` other than \`100-continue\` a 417 (\`ExpectationFailed\`), a \`Transfer-Encoding\` other than \`chunked\` alone a 501 (\`NotImplemented\`), headers over 16 KiB a 431 (\`HeadersTooLarge\`); all JSON, then the connection closes.
- Requests pipelined on one connection are handled one at a time, in order; requests pipelined behind an event stream are ignored (never carried out).

Every limit, its setting and its answer: docs/limits.md.`;

const SECURITY_SCHEMES: Json = {
  heraldBearer: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "A JWT with the `herald` claim (`publish`, `subscribe`: topic selectors), docs/auth.md. With no key configured, Herald prints a token of the run at start.",
  },
  heraldCookie: {
    type: "apiKey",
    in: "cookie",
    name: defaultOf("authCookie"),
    description:
      "The subscriber token set by `POST /auth/cookie` (`HERALD_AUTH_COOKIE` names it); read on streams only, never to publish.",
  },
  mercureBearer: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "A JWT with the `mercure` claim (`publish`, `subscribe`, `payload`), or Herald's `herald` claim (docs/mercure.md).",
  },
  mercureQuery: {
    type: "apiKey",
    in: "query",
    name: "authorization",
    description:
      "The Mercure JWT as a query parameter (it ends up in logs: prefer the header or the cookie).",
  },
  mercureCookie: {
    type: "apiKey",
    in: "cookie",
    name: defaultOf("mercureCookieName"),
    description: "The Mercure JWT as a cookie (`MERCURE_COOKIE_NAME` names it).",
  },
};

const RESPONSES: Json = {
  NotFound: heraldError("not_found", "no route for this path: the message lists the routes Herald serves"),
  MethodNotAllowed: {
    ...heraldError("method_not_allowed", "the path is served, not with this method"),
    headers: {
      Allow: { description: "the methods served on this path", required: true, schema: { type: "string" } },
    },
  },
  BadTarget: heraldError("bad_request", "the request target is not a valid URL"),
  Malformed: heraldError(
    "bad_request",
    "the bytes received are not an HTTP/1.1 request (or an HTTP/1.1 request without Host, or CONNECT); the connection closes",
  ),
  RequestTimeout: heraldError(
    "request_timeout",
    "the request's headers or body did not arrive in time; the connection closes",
  ),
  ExpectationFailed: heraldError(
    "expectation_failed",
    "the request's Expect header is not `100-continue`, the only expectation Herald meets; the connection closes",
  ),
  NotImplemented: heraldError(
    "not_implemented",
    "the request's Transfer-Encoding is not `chunked` alone (a compressed body, say); the connection closes",
  ),
  Options: {
    description:
      "the methods served on this path (`Allow`); to a CORS preflight from an allowed origin (`HERALD_CORS_ORIGINS`), also the `Access-Control-*` headers a browser needs (an origin not allowed gets none, and the browser refuses the request)",
    headers: {
      Allow: { description: "the methods served on this path", required: true, schema: { type: "string" } },
      "Access-Control-Allow-Origin": {
        description: "the allowed origin the request came from, or `*` when any origin is allowed",
        schema: { type: "string" },
      },
      "Access-Control-Allow-Methods": { description: "as `Allow`", schema: { type: "string" } },
      "Access-Control-Allow-Headers": {
        description: "the request headers a cross-origin client may send",
        schema: { type: "string" },
      },
      "Access-Control-Max-Age": {
        description: "seconds a browser may keep this answer",
        schema: { type: "string", pattern: "^[0-9]+$" },
      },
    },
  },
  HeadersTooLarge: heraldError(
    "headers_too_large",
    "the request headers are over 16 KiB; the connection closes",
  ),
};

let document: Json | undefined;

/** The description (built once). */
export function openApiDocument(): Json {
  document ??= {
    openapi: "3.1.0",
    info: {
      title: "Herald",
      version: packageVersion(),
      summary: "A Server-Sent Events hub, with the seed article's API and the Mercure protocol",
      description: DESCRIPTION,
      license: { name: "MIT", identifier: "MIT" },
    },
    tags: [
      { name: "herald", description: "Herald's API: subscribe, publish" },
      { name: "seed", description: "The seed article's API" },
      { name: "mercure", description: "The Mercure protocol (docs/mercure.md)" },
      { name: "ops", description: "Health, figures, the demo page, this description" },
    ],
    paths: withOptions({ ...API_PATHS, ...STREAM_PATHS, ...PRESENCE_PATHS, ...MERCURE_PATHS, ...OPS_PATHS }),
    components: { schemas: SCHEMAS, responses: RESPONSES, securitySchemes: SECURITY_SCHEMES },
  };
  return document;
}

/**
 * Every path also answers OPTIONS (http/cors.ts): 204 with `Allow`, and the CORS preflight; the
 * same operation on each path, added here so no path lacks it.
 */
function withOptions(paths: Json): Json {
  const out: Json = {};
  for (const [path, item] of Object.entries(paths)) {
    const tags = Object.values(item as Record<string, Json>).find((op) => op.tags !== undefined)?.tags;
    out[path] = {
      ...(item as Json),
      options: {
        ...(tags === undefined ? {} : { tags }),
        summary: "Allowed methods, and the CORS preflight (docs/http-api.md#cors)",
        security: [],
        responses: { "204": { $ref: "#/components/responses/Options" } },
      },
    };
  }
  return out;
}

/** The herald package's version (its package.json is 3 levels up from both src/ and dist/). */
function packageVersion(): string {
  const url = new URL("../../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
}
