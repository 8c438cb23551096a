import type { IncomingMessage } from "node:http";
import { badRequest, HeraldError } from "../core/errors.ts";

/**
 * Reads a request body up to `maxBytes`. Rejects with `payload_too_large` as soon as the body (or
 * its Content-Length) is over the limit; the rest is not read.
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = () =>
    new HeraldError(
      "payload_too_large",
      `request body is over the ${maxBytes}-byte limit (HERALD_MAX_BODY); send less, or split it into several requests`,
    );
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof HeraldError) throw error;
    // The client went away or was cut off (HERALD_REQUEST_TIMEOUT): its fault, not a server error.
    throw badRequest("the request body ended early: the connection closed or the request timed out");
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
}

/** The media type of a request without parameters, lowercased ("" when absent). */
export function mediaType(req: IncomingMessage): string {
  return (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
}

export function requireJson(req: IncomingMessage): void {
  const type = mediaType(req);
  if (type !== "application/json" && !type.endsWith("+json")) {
    throw new HeraldError(
      "unsupported_media_type",
      `Content-Type ${type === "" ? "is missing" : `"${type}" is not accepted`}; send the body as JSON with Content-Type: application/json`,
    );
  }
}

/** Parses JSON text; a syntax error becomes `bad_request` naming what the parser saw. */
export function parseJson(body: Buffer): unknown {
  const text = body.toString("utf8");
  if (text.trim() === "") throw badRequest("request body is empty; send a JSON document");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`request body is not valid JSON: ${(error as Error).message}`);
  }
}
