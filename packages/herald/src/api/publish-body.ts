import { badRequest } from "../core/errors.ts";
import type { PublishInput } from "../core/event.ts";
import { refuseReservedType } from "./reserved-types.ts";

const FIELDS = new Set(["topic", "data", "event", "id", "retry", "private"]);

/**
 * Turns a `POST /publish` JSON body into a PublishInput. Checks shapes and types, and refuses the
 * hub's own event types (`refuseReservedType`); rules on values (lengths, CR/LF in ids, ...) are
 * `validatePublish`'s, in the core.
 *
 * `data`: a string is sent as is; any other JSON value is sent as its JSON text.
 * `scope`: the publisher's deduplication scope (`publishScope`), set by the server, never by the body.
 */
export function parsePublishBody(body: unknown, scope?: string): PublishInput {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest('the body must be a JSON object such as {"topic":"news","data":"hello"}');
  }
  const record = body as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!FIELDS.has(key)) {
      throw badRequest(`unknown field "${key}"; accepted fields are ${[...FIELDS].join(", ")}`);
    }
  }
  const topic = record.topic;
  let topics: string[];
  if (typeof topic === "string") topics = [topic];
  else if (Array.isArray(topic)) topics = topic as string[];
  else throw badRequest('"topic" is required: a topic string or an array of topic strings');
  if (!("data" in record) || record.data === undefined)
    throw badRequest('"data" is required: any JSON value');
  const data = typeof record.data === "string" ? record.data : JSON.stringify(record.data);
  const type = optionalString(record, "event");
  refuseReservedType(type, "event");
  return {
    topics,
    data,
    type,
    id: optionalString(record, "id"),
    retry: optionalNumber(record, "retry"),
    private: optionalBoolean(record, "private"),
    scope,
  };
}

function optionalString(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw badRequest(`"${key}" must be a string`);
  return value;
}

function optionalNumber(record: Record<string, unknown>, key: string): number | undefined {
  const value = record[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number") throw badRequest(`"${key}" must be a number`);
  return value;
}

function optionalBoolean(record: Record<string, unknown>, key: string): boolean | undefined {
  const value = record[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw badRequest(`"${key}" must be true or false`);
  return value;
}
