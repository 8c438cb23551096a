import type { IncomingMessage, ServerResponse } from "node:http";
import type { HeraldConfig } from "../config/settings.ts";
import { authorizePublish, type Principal } from "../core/auth.ts";
import type { Hub } from "../core/hub.ts";
import { bodyRead, parseJson, readBody, requireJson } from "../http/body.ts";
import { sendJson } from "../http/errors.ts";
import { parsePublishBody } from "./publish-body.ts";
import { publishScope } from "./publish-scope.ts";
import { refuseReservedTopics } from "./reserved-topics.ts";

/**
 * Authenticates (and rate-limits) a publish request before its body is read: 401/429 cost no body.
 * `Access.publisher` is the server's; tests and embedders may pass their own.
 */
export type PublishGate = (req: IncomingMessage) => Promise<Principal>;

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
  const principal = await gate(req);
  requireJson(req);
  // the lean path read the body already (http/lean-front.ts): no promise to wait for
  const body = parseJson(bodyRead(req, options.maxBodyBytes) ?? (await readBody(req, options.maxBodyBytes)));
  const input = parsePublishBody(body, publishScope(principal));
  allowPublish(principal, input.topics);
  const [result] = await hub.publish([input]);
  sendJson(res, 200, { id: result!.id, queued: result!.queued });
}

/** What every publish route does first: the gate (before the body is read), then the JSON body. */
export async function readPublishRequest(
  req: IncomingMessage,
  options: PublishOptions,
  gate: PublishGate,
): Promise<{ principal: Principal; body: unknown }> {
  const principal = await gate(req);
  requireJson(req);
  return {
    principal,
    body: parseJson(bodyRead(req, options.maxBodyBytes) ?? (await readBody(req, options.maxBodyBytes))),
  };
}

/** Refuses an event on a reserved topic, then one the token's publish claim does not cover (403). */
export function allowPublish(principal: Principal, topics: readonly string[]): void {
  refuseReservedTopics(topics);
  authorizePublish(principal, topics);
}
