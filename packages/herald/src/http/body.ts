import { isUtf8 } from "node:buffer";
import type { IncomingMessage } from "node:http";
import { badRequest, HeraldError } from "../core/errors.ts";
import { LEAN_BODY } from "./lean-exchange.ts";

interface BodyRead {
  readonly chunks: Buffer[];
  size: number;
  readonly maxBytes: number;
  readonly resolve: (body: Buffer) => void;
  readonly reject: (error: Error) => void;
}
const READ = Symbol("herald.bodyRead");
type Reading = IncomingMessage & { [READ]?: BodyRead | undefined };

/**
 * Reads a request body up to `maxBytes`. Rejects with `payload_too_large` as soon as the body (or
 * its Content-Length) is over the limit; the rest is then thrown away as it comes. Module-level
 * listeners with the state on the request (no closure per request: this is the publish hot path).
 * A request read by the lean path (http/lean-front.ts) has its body there (or its promise).
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.reject(tooLarge(maxBytes));
  const lean = (req as { [LEAN_BODY]?: Buffer | Promise<Buffer> })[LEAN_BODY];
  if (lean !== undefined) return lean instanceof Promise ? lean : Promise.resolve(lean);
  if (req.destroyed) return Promise.reject(endedEarly());
  return new Promise((resolve, reject) => {
    (req as Reading)[READ] = { chunks: [], size: 0, maxBytes, resolve, reject };
    req.on("data", onBodyData);
    req.on("end", onBodyEnd);
    req.on("error", onBodyAbort);
    req.on("close", onBodyAbort);
  });
}

/**
 * The body of a request the lean path read whole before its route ran (http/lean-front.ts:
 * Content-Length bytes, at most 64 KiB), when it is within `maxBytes`; undefined otherwise (then
 * `readBody`, which also answers 413 above the limit).
 */
export function bodyRead(req: IncomingMessage, maxBytes: number): Buffer | undefined {
  const lean = (req as { [LEAN_BODY]?: Buffer | Promise<Buffer> })[LEAN_BODY];
  return lean instanceof Buffer && lean.length <= maxBytes ? lean : undefined;
}

function onBodyData(this: Reading, chunk: Buffer): void {
  const read = this[READ];
  if (read === undefined) return;
  read.size += chunk.length;
  read.chunks.push(chunk);
  if (read.size > read.maxBytes) settle(this, tooLarge(read.maxBytes));
}

function onBodyEnd(this: Reading): void {
  settle(this, undefined);
}

function onBodyAbort(this: Reading): void {
  settle(this, endedEarly());
}

function settle(req: Reading, error: Error | undefined): void {
  const read = req[READ];
  if (read === undefined) return;
  req[READ] = undefined;
  req.off("data", onBodyData);
  req.off("end", onBodyEnd);
  req.off("error", onBodyAbort);
  req.off("close", onBodyAbort);
  if (error !== undefined) {
    // The rest of the body is read and thrown away (bounded by HERALD_REQUEST_TIMEOUT), so a client
    // still uploading gets to read the answer (closing would cut it off with EPIPE).
    req.resume();
    read.reject(error);
  } else {
    const { chunks, size } = read;
    read.resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
  }
}

/** The client went away or was cut off (HERALD_REQUEST_TIMEOUT): its fault, not a server error. */
export function endedEarly(): HeraldError {
  return badRequest("the request body ended early: the connection closed or the request timed out");
}

function tooLarge(maxBytes: number): HeraldError {
  return new HeraldError(
    "payload_too_large",
    `request body is over the ${maxBytes}-byte limit (HERALD_MAX_BODY); send less, or split it into several requests`,
  );
}

/**
 * The media type of a request without parameters, lowercased ("" when absent). Every body Herald
 * reads is UTF-8: a `charset` parameter naming anything else is refused (415) here, for every
 * caller, rather than decoded as UTF-8 into garbage or a misleading syntax error.
 */
export function mediaType(req: IncomingMessage): string {
  const value = req.headers["content-type"];
  if (value === "application/json") return value; // the usual one: nothing to split or lowercase
  requireUtf8(req);
  return (value ?? "").split(";")[0]!.trim().toLowerCase();
}

/**
 * A parameter of a Content-Type (RFC 9110 5.6.6): `; name=token` or `; name="quoted string"`
 * (a `;` inside quotes belongs to the value). Group 1: the name; 2: a quoted value; 3: a token.
 */
const PARAMETER = /;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;

/**
 * Refuses (415) a body whose Content-Type declares a charset other than UTF-8, for every route
 * that reads a body (`mediaType` calls it; POST /broadcast, which takes any media type, too).
 */
export function requireUtf8(req: IncomingMessage): void {
  const value = req.headers["content-type"];
  if (value === undefined || !value.includes(";")) return;
  for (const [, name, quoted, token] of value.matchAll(PARAMETER)) {
    if (name?.toLowerCase() !== "charset") continue;
    const charset = (quoted ?? token ?? "").trim().toLowerCase();
    if (charset !== "utf-8" && charset !== "utf8") {
      throw new HeraldError(
        "unsupported_media_type",
        `charset "${charset.slice(0, 40)}" is not accepted; send the body as UTF-8 (charset=utf-8, or no charset)`,
      );
    }
  }
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

/**
 * Deepest nesting of arrays and objects a JSON body may have. Reading a body does not recurse per
 * level (`JSON.parse` takes 100,000 levels on Node 20; http/json-source.ts is iterative), but a JS
 * value that deep is a hazard for whatever walks it recursively (`JSON.stringify` runs out of stack
 * near 4,000 levels): 512 is far from that, and deeper than any event needs.
 */
export const MAX_JSON_DEPTH = 512;

/** A JSON body: its value, and its text (where http/json-source.ts finds a value's source text). */
export interface ParsedJson {
  readonly value: unknown;
  readonly text: string;
}

/**
 * Parses a JSON body; a syntax error becomes `bad_request` naming what the parser saw, and so do
 * bytes that are not UTF-8 (never replaced by U+FFFD in silence) and nesting deeper than
 * MAX_JSON_DEPTH (checked on the bytes, before parsing).
 */
export function parseJson(body: Buffer): unknown {
  return parseJsonBody(body).value;
}

/** `parseJson`, with the text that parsed: the contract of http/json-source.ts's functions. */
export function parseJsonBody(body: Buffer): ParsedJson {
  if (body.length > MAX_JSON_DEPTH && nestedTooDeep(body, MAX_JSON_DEPTH)) {
    throw badRequest(
      `request body is nested more than ${MAX_JSON_DEPTH} levels deep (arrays and objects); flatten it, or send the value as a JSON string`,
    );
  }
  if (!isUtf8(body)) {
    throw badRequest("request body is not valid UTF-8: send JSON text encoded as UTF-8 (RFC 8259)");
  }
  const text = body.toString("utf8");
  if (text.trim() === "") throw badRequest("request body is empty; send a JSON document");
  try {
    return { value: JSON.parse(text), text };
  } catch (error) {
    throw badRequest(`request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Whether `[`/`{` (outside strings) nest deeper than `limit` anywhere in `json`. One pass, no allocation. */
function nestedTooDeep(json: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const byte = json[i];
    if (inString) {
      if (byte === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > limit) return true;
    } else if (byte === 0x5d || byte === 0x7d) depth--;
  }
  return false;
}
