import { heraldErrors, type Json, jsonAnswer, schemaRef } from "./parts.ts";

/** Health, figures, the demo page and this description (ops/). */

const clusterUnavailable = {
  unavailable: "with `--workers N`: the cluster's primary did not answer in time; retry",
};

/** A file of the demo page: 200 with its type, 500 when the page was not built. */
function pageFile(operationId: string, summary: string, mediaType: string): Json {
  return {
    get: {
      tags: ["ops"],
      operationId,
      summary,
      responses: {
        "200": {
          description: "the file, with a Content-Security-Policy that allows only Herald's own scripts",
          headers: {
            "Content-Security-Policy": { required: true, schema: { type: "string" } },
            "X-Content-Type-Options": { required: true, schema: { const: "nosniff" } },
          },
          content: { [mediaType]: { schema: { type: "string" } } },
        },
        ...heraldErrors({ internal: "the page was not built (`npm run build`)" }),
      },
    },
  };
}

export const OPS_PATHS: Json = {
  "/healthz": {
    get: {
      tags: ["ops"],
      operationId: "health",
      summary: "Liveness: 200 while the process runs",
      responses: {
        "200": jsonAnswer("alive", schemaRef("Health")),
      },
    },
  },
  "/readyz": {
    get: {
      tags: ["ops"],
      operationId: "readiness",
      summary: "Readiness: whether this node takes streams and publishes",
      responses: {
        "200": jsonAnswer("ready", {
          type: "object",
          $ref: "#/components/schemas/Readiness",
          properties: { ready: { const: true } },
        }),
        "503": jsonAnswer("shutting down, or the bus is not ready; `reason` says which", {
          type: "object",
          $ref: "#/components/schemas/Readiness",
          required: ["reason"],
          properties: { ready: { const: false } },
        }),
      },
    },
  },
  "/status": {
    get: {
      tags: ["ops"],
      operationId: "status",
      summary: "The hub's figures as JSON (of every worker together with `--workers N`)",
      responses: {
        "200": jsonAnswer("the figures (docs/metrics.md)", schemaRef("Status")),
        ...heraldErrors(clusterUnavailable),
      },
    },
  },
  "/metrics": {
    get: {
      tags: ["ops"],
      operationId: "metrics",
      summary: "Prometheus metrics (of every worker together with `--workers N`)",
      responses: {
        "200": {
          description: "the Prometheus text format, version 0.0.4 (docs/metrics.md)",
          content: { "text/plain": { schema: { type: "string", pattern: "^# HELP " } } },
        },
        ...heraldErrors(clusterUnavailable),
      },
    },
  },
  "/openapi.json": {
    get: {
      tags: ["ops"],
      operationId: "openapi",
      summary: "This description (OpenAPI 3.1)",
      responses: { "200": jsonAnswer("the description (also docs/openapi.json)", schemaRef("OpenApi")) },
    },
  },
  "/": pageFile("page", "The demo page: live events, a publish form, the hub's figures", "text/html"),
  "/app.js": pageFile("pageScript", "The demo page's script (the client SDK inside)", "text/javascript"),
  "/style.css": pageFile("pageStyle", "The demo page's style", "text/css"),
  "/herald-client.js": pageFile(
    "clientModule",
    "The client SDK as one ES module, for pages of your own (docs/client.md)",
    "text/javascript",
  ),
};
