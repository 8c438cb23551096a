import type { IncomingMessage, ServerResponse } from "node:http";
import type { Hub } from "../../core/hub.ts";
import { parseJson, readBody, requireJson } from "../body.ts";
import type { HeraldConfig } from "../config.ts";
import { sendJson } from "../http-errors.ts";
import { parsePublishBody } from "../publish-body.ts";

/** `POST /publish`: JSON body -> 200 `{"id", "queued"}`; a retry of a held id answers as the first time. */
export async function handlePublish(
  hub: Hub,
  config: HeraldConfig,
  req: IncomingMessage,
  res: ServerResponse,
) {
  requireJson(req);
  const input = parsePublishBody(parseJson(await readBody(req, config.maxBodyBytes)));
  const [result] = await hub.publish([input]);
  sendJson(res, 200, { id: result!.id, queued: result!.queued });
}
