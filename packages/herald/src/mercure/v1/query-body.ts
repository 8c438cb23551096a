import type { IncomingMessage } from "node:http";
import { badRequest, HeraldError } from "../../core/errors.ts";
import { mediaType, readBody } from "../../http/body.ts";

/** The method that carries a subscription's parameters in its body (RFC 10008, spec "Subscription"). */
export const QUERY_METHOD = "QUERY";

const FORM = "application/x-www-form-urlencoded";
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The form body of a `QUERY` subscribe request, as text ("" for any other method, or no body).
 * Spec "Subscription": the parameters in the body are application/x-www-form-urlencoded; they
 * join the query component's (subscribe-request.ts takes the union). Refusals: 415 for a body
 * with another Content-Type, or none; 413 over `maxBytes` (HERALD_MAX_BODY, as a publish); 400
 * for bytes that are not UTF-8. An empty body needs no Content-Type.
 */
export async function subscribeBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  if (req.method !== QUERY_METHOD) return "";
  const type = mediaType(req);
  if (type !== "" && type !== FORM) throw notForm(type);
  const body = await readBody(req, maxBytes);
  if (body.length === 0) return "";
  if (type === "") throw notForm(type);
  try {
    return UTF8.decode(body);
  } catch {
    throw badRequest(`the body of a QUERY subscription must be UTF-8 (${FORM})`);
  }
}

function notForm(type: string): HeraldError {
  return new HeraldError(
    "unsupported_media_type",
    `Content-Type ${type === "" ? "is missing" : `"${type}" is not accepted`}; a QUERY subscription sends its parameters (match=..., match_urlpattern=..., last_event_id=...) as ${FORM}`,
  );
}
