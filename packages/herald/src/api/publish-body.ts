import { badRequest } from "../core/errors.ts";
import type { PublishInput } from "../core/event.ts";
import { compactValue, memberStart } from "../http/json-source.ts";
import { refuseReservedType } from "./reserved-types.ts";

const FIELDS = new Set(["topic", "data", "event", "id", "retry", "private"]);

/**
 * Turns a `POST /publish` JSON body into a PublishInput. Checks shapes and types, and refuses the
 * hub's own event types (`refuseReservedType`); rules on values (lengths, CR/LF in ids, ...) are
 * `validatePublish`'s, in the core.
 *
 * `data`: a string is sent as is (decoded); any other JSON value as the publisher wrote it, made
 * compact (http/json-source.ts `compactValue`): numbers keep their digits (`12345678901234567891`,
 * `1e400`, `1.50`) and strings their escapes, and a retry is the same text again.
 * `source`: where `body` is in the request's JSON text (`parseJsonBody`), to read `data`'s text.
 * `scope`: the publisher's deduplication scope (`publishScope`), set by the server, never by the body.
 */
export function parsePublishBody(body: unknown, source: JsonAt, scope?: string): PublishInput {
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
  const data =
    typeof record.data === "string"
      ? record.data
      : compactValue(source.text, memberStart(source.text, source.start, "data"));
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

/** A JSON value in the text that parsed into it: `text` and the index of the value's first character. */
export interface JsonAt {
  readonly text: string;
  readonly start: number;
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
