import type { IncomingMessage, ServerResponse } from "node:http";
import type { HeraldConfig } from "../config/settings.ts";
import { AuthError, authorizePublish } from "../core/auth.ts";
import { badRequest } from "../core/errors.ts";
import type { Hub } from "../core/hub.ts";
import { parseSelector } from "../core/topic.ts";
import { parseJsonBody, readBody, requireUtf8 } from "../http/body.ts";
import { STATUS_OF, sendJson, toHeraldError } from "../http/errors.ts";
import { compactValue, skipSpace } from "../http/json-source.ts";
import type { Handler } from "../http/router.ts";
import type { Streams } from "../http/sse/open-stream.ts";
import { openHeraldStream, type SubscriberGate } from "./events.ts";
import type { PublishGate } from "./publish.ts";

/** The settings the seed's routes read. */
export type SeedOptions = Pick<HeraldConfig, "broadcastTopic" | "maxBodyBytes" | "trustProxy">;

/**
 * The seed article's `GET /stream`: every `POST /broadcast` (topic `broadcastTopic`), on the same
 * stream path as `GET /events` (same resume, limits, tokens and expiry).
 */
export function seedStreamRoute(
  streams: Streams,
  subscriber: SubscriberGate,
  options: Pick<SeedOptions, "broadcastTopic" | "trustProxy">,
): Handler {
  const selectors = [parseSelector(options.broadcastTopic)];
  const credential = async (req: IncomingMessage) => ({ principal: await subscriber(req), auth: undefined });
  return (req, res, url) => {
    // a ticket here would be ignored, and the stream opened without its grants: say so
    if (url.searchParams.has("ticket")) {
      throw badRequest("tickets open GET /events streams: use /events?topic=<topic>&ticket=<ticket>");
    }
    return openHeraldStream(streams, credential, options, req, res, url, selectors);
  };
}

/**
 * The seed article's `POST /broadcast`: any JSON body is sent, as written but compact (whitespace
 * outside strings removed: http/json-source.ts `compactValue`), as `data:` to every `/stream`
 * client (topic `broadcastTopic`). Answers in the seed's shape:
 * `{"success":true,"code":200}` or `{"success":false,"code":<status>,"message":"..."}`.
 * Any Content-Type is accepted, as the seed did: the body itself must be JSON. Like /publish it needs
 * a token allowed to publish to `broadcastTopic` (401 + WWW-Authenticate / 403, in the seed's shape).
 */
export async function handleBroadcast(
  hub: Hub,
  options: Pick<SeedOptions, "broadcastTopic" | "maxBodyBytes">,
  req: IncomingMessage,
  res: ServerResponse,
  gate: PublishGate,
) {
  try {
    const principal = await gate(req);
    requireUtf8(req); // any media type (the seed's curl sends a form's), but UTF-8
    const { text } = parseJsonBody(await readBody(req, options.maxBodyBytes));
    authorizePublish(principal, [options.broadcastTopic]);
    // the body as written, made compact: numbers keep their digits, strings their escapes
    await hub.publish([{ topics: [options.broadcastTopic], data: compactValue(text, skipSpace(text, 0)) }]);
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
