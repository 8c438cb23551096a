import type { IncomingMessage, ServerResponse } from "node:http";
import type { HeraldConfig } from "../config/settings.ts";
import { authorizePublish, type Principal } from "../core/auth.ts";
import { badRequest } from "../core/errors.ts";
import type { Hub } from "../core/hub.ts";
import { bodyRead, parseJsonBody, readBody, requireJson } from "../http/body.ts";
import { sendJson } from "../http/errors.ts";
import { skipSpace } from "../http/json-source.ts";
import { parsePublishBody } from "./publish-body.ts";
import { publishScope } from "./publish-scope.ts";
import { refuseReservedTopics } from "./reserved-topics.ts";

/**
 * Authenticates (and rate-limits) a publish request before its body is read: 401/429 cost no body.
 * `Access.publisher` is the server's; tests and embedders may pass their own.
 */
export type PublishGate = (req: IncomingMessage) => Principal | Promise<Principal>;

/** The settings the publish routes read. */
export type PublishOptions = Pick<HeraldConfig, "maxBodyBytes">;

/**
 * `POST /publish`: JSON body -> 200 `{"id", "queued"}`. A retry (the same publisher, id and
 * content as a held event: `publishScope`, `History.retryOf`) answers as the first time; the same
 * id from another publisher, or with other content, is a new event, and its answer is its own.
 * The token's publish claim must match every topic of the event (403 otherwise).
 */
export async function handlePublish(
  hub: Hub,
  options: PublishOptions,
  req: IncomingMessage,
  res: ServerResponse,
  gate: PublishGate,
) {
  // no await where nothing is to be waited for: the gate's principal and the lean path's body are
  // often there at once (http/lean-front.ts), and each await costs a turn of the microtask queue
  const gated = gate(req);
  const principal = gated instanceof Promise ? await gated : gated;
  requireJson(req);
  const read = bodyRead(req, options.maxBodyBytes);
  const { value, text } = parseJsonBody(read ?? (await readBody(req, options.maxBodyBytes)));
  const input = parsePublishBody(value, { text, start: skipSpace(text, 0) }, publishScope(principal));
  allowPublish(principal, input.topics);
  const result = (await hub.publish([input]))[0]!;
  sendJson(res, 200, { id: result.id, queued: result.queued });
}

/**
 * What every publish route does first: the gate (before the body is read), then the JSON body:
 * its value (`body`) and its text (`text`, where a value's source text is read: http/json-source.ts).
 */
export async function readPublishRequest(
  req: IncomingMessage,
  options: PublishOptions,
  gate: PublishGate,
): Promise<{ principal: Principal; body: unknown; text: string }> {
  const gated = gate(req);
  const principal = gated instanceof Promise ? await gated : gated;
  requireJson(req);
  const read = bodyRead(req, options.maxBodyBytes);
  const { value, text } = parseJsonBody(read ?? (await readBody(req, options.maxBodyBytes)));
  return { principal, body: value, text };
}

/**
 * Refuses an event with an empty topic (400: in Herald's API it is no topic, not the Mercure hub's
 * URL), on a reserved topic, then one the token's publish claim does not cover (403).
 */
export function allowPublish(principal: Principal, topics: readonly string[]): void {
  if (topics.includes("")) throw badRequest('"topic" must not be empty');
  refuseReservedTopics(topics);
  authorizePublish(principal, topics);
}
