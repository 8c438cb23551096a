import type { IncomingMessage } from "node:http";
import { badRequest, HeraldError } from "../core/errors.ts";

/**
 * Reads a request body up to `maxBytes`. Rejects with `payload_too_large` as soon as the body (or
 * its Content-Length) is over the limit; the rest is not read.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = () =>
    new HeraldError(
      "payload_too_large",
      `request body is over the ${maxBytes}-byte limit (HERALD_MAX_BODY); send less, or split it into several requests`,
    );
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(tooLarge());
  // plain 'data'/'end' listeners: cheaper per request than an async iterator (publishing hot path)
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        req.resume(); // drain the rest unread
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      if (!req.complete)
        onError(new HeraldError("bad_request", "the request body ended early (connection closed)"));
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
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
