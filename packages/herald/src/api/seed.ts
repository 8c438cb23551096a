import type { IncomingMessage, ServerResponse } from "node:http";
import type { HeraldConfig } from "../config/settings.ts";
import { AuthError, authorizePublish } from "../core/auth.ts";
import type { Hub } from "../core/hub.ts";
import { parseJson, readBody } from "../http/body.ts";
import { STATUS_OF, sendJson, toHeraldError } from "../http/errors.ts";
import type { PublishGate } from "./publish.ts";

/**
 * The seed article's `POST /broadcast`: any JSON body is sent, as compact JSON text, as `data:` to
 * every `/stream` client (topic `broadcastTopic`). Answers in the seed's shape:
 * `{"success":true,"code":200}` or `{"success":false,"code":<status>,"message":"..."}`.
 * Any Content-Type is accepted, as the seed did: the body itself must be JSON. Like /publish it needs
 * a token allowed to publish to `broadcastTopic` (401 + WWW-Authenticate / 403, in the seed's shape).
 */
export async function handleBroadcast(
  hub: Hub,
  config: HeraldConfig,
  req: IncomingMessage,
  res: ServerResponse,
  gate: PublishGate,
) {
  try {
    const principal = await gate(req);
    const body = parseJson(await readBody(req, config.maxBodyBytes));
    authorizePublish(principal, [config.broadcastTopic]);
    await hub.publish([{ topics: [config.broadcastTopic], data: JSON.stringify(body) }]);
    sendJson(res, 200, { success: true, code: 200 });
  } catch (error) {
    const herald = toHeraldError(error);
    const status = STATUS_OF[herald.code];
    const headers: Record<string, string> = {};
    if (herald.retryAfterSeconds !== undefined) headers["Retry-After"] = String(herald.retryAfterSeconds);
    if (herald instanceof AuthError) headers["WWW-Authenticate"] = herald.challenge;
    if (herald.code === "internal") throw error;
    sendJson(res, status, { success: false, code: status, message: herald.message }, headers);
  }
}
