import type { IncomingMessage, ServerResponse } from "node:http";
import { authorizePublish, type Principal } from "../../core/auth.ts";
import type { Hub } from "../../core/hub.ts";
import { parseJson, readBody, requireJson } from "../body.ts";
import type { HeraldConfig } from "../config.ts";
import { sendJson } from "../http-errors.ts";
import { parsePublishBody } from "../publish-body.ts";
import { refuseReservedTopics } from "../reserved-topics.ts";

/**
 * Authenticates (and rate-limits) a publish request before its body is read: 401/429 cost no body.
 * `Access.publisher` is the server's; tests and embedders may pass their own.
 */
export type PublishGate = (req: IncomingMessage) => Promise<Principal>;

/**
 * `POST /publish`: JSON body -> 200 `{"id", "queued"}`; a retry of a held id answers as the first time.
 * The token's publish claim must match every topic of the event (403 otherwise).
 */
export async function handlePublish(
  hub: Hub,
  config: HeraldConfig,
  req: IncomingMessage,
  res: ServerResponse,
  gate: PublishGate,
) {
  const principal = await gate(req);
  requireJson(req);
  const input = parsePublishBody(parseJson(await readBody(req, config.maxBodyBytes)));
  refuseReservedTopics(input.topics);
  authorizePublish(principal, input.topics);
  const [result] = await hub.publish([input]);
  sendJson(res, 200, { id: result!.id, queued: result!.queued });
}
