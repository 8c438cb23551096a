import type { IncomingMessage, ServerResponse } from "node:http";
import { sendBody } from "../http/errors.ts";
import { openApiDocument } from "./openapi/index.ts";

/** Where the description is served. */
export const OPENAPI_PATH = "/openapi.json";

let body: string | undefined;

/**
 * `GET /openapi.json`: the OpenAPI 3.1 description of every route (ops/openapi/; docs/openapi.json
 * is the same document). The same for every request and every configuration: it states settings
 * and their defaults rather than this server's values.
 */
export function handleOpenApi(_req: IncomingMessage, res: ServerResponse): void {
  body ??= JSON.stringify(openApiDocument());
  sendBody(res, 200, "application/json; charset=utf-8", body);
}
