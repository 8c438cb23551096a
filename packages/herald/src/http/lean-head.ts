import { type IncomingHttpHeaders, maxHeaderSize } from "node:http";

/**
 * Reading a request head on the lean path (http/lean-front.ts): only the plainest HTTP/1.1
 * requests qualify; for anything else the answer is "node": the bytes go, untouched, to node:http,
 * which parses (or refuses) them as always. So the lean path never decides what a doubtful request
 * means: it either understands a request completely or does not touch it.
 *
 * A request qualifies when: its request line is `<METHOD> <target> HTTP/1.1` with a target served
 * here (exact, no query); its lines end with CRLF; each header name is a token and appears once;
 * values hold no control character but tab; it has `Host` and `Content-Length` (digits, at most
 * `MAX_LEAN_BODY`); it has no `Transfer-Encoding`, `Expect` or `Upgrade`; `Connection`, if present,
 * is `keep-alive` or `close`; at most MAX_HEADERS headers in at most MAX_LEAN_HEAD bytes.
 */

/**
 * Most bytes of a lean head: 8 KiB, well under node:http's header limit (16 KiB unless
 * --max-http-header-size says otherwise; half of it then), so that a head near the limit is
 * counted, and refused (431), by node:http alone.
 */
export const MAX_LEAN_HEAD = Math.min(8 * 1024, Math.floor(maxHeaderSize / 2));
/** Largest lean body; a larger one goes through node:http (which applies HERALD_MAX_BODY as always). */
export const MAX_LEAN_BODY = 64 * 1024;
const MAX_HEADERS = 64;

export interface LeanHead {
  readonly method: string;
  readonly target: string;
  /** Lowercased names, as node:http gives them. */
  readonly headers: IncomingHttpHeaders;
  /** Bytes of the head, with its closing blank line. */
  readonly headLength: number;
  readonly bodyLength: number;
  /** The client asked for `Connection: close`. */
  readonly close: boolean;
}

/** "more": the head is not complete yet; "node": not a lean request (hand the bytes to node:http). */
export type HeadOutcome = LeanHead | "more" | "node";

const HEAD_END = Buffer.from("\r\n\r\n");
const BARE_END = Buffer.from("\n\n");
/** 1 for the bytes of a token (RFC 9110 tchar), 2 for the upper-case letters among them. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 2;
const REFUSED = new Set(["transfer-encoding", "expect", "upgrade"]);

/**
 * Reads the head at the start of `buf` for one of `lines` (the accepted request lines, such as
 * `POST /publish HTTP/1.1`, each mapped to its method and target). One pass over the bytes.
 */
export function readLeanHead(
  buf: Buffer,
  lines: ReadonlyMap<string, { method: string; target: string }>,
): HeadOutcome {
  const lineEnd = buf.indexOf(13 /* \r */);
  // the request line must be one of `lines` (decided as soon as its bytes allow it)
  if (lineEnd === -1) {
    const start = buf.toString("latin1", 0, Math.min(buf.length, 64));
    for (const line of lines.keys()) if (line.startsWith(start)) return "more";
    return "node";
  }
  const request = requestLine(buf, lineEnd, lines);
  if (request === undefined) return "node";
  const end = buf.indexOf(HEAD_END, lineEnd);
  if (end === -1) {
    return buf.indexOf(BARE_END) !== -1 || buf.length > MAX_LEAN_HEAD ? "node" : "more";
  }
  if (end + 4 > MAX_LEAN_HEAD) return "node";
  const headers: IncomingHttpHeaders = {};
  let count = 0;
  let i = lineEnd;
  // each line: CR LF, then `name:` OWS value OWS (the last line's CR LF opens the blank line at `end`)
  while (i < end) {
    if (buf[i + 1] !== 10 || ++count > MAX_HEADERS) return "node";
    const nameStart = i + 2;
    let j = nameStart;
    let upper = false;
    for (;;) {
      const kind = TCHAR[buf[j] as number];
      if (kind === 0) break;
      if (kind === 2) upper = true;
      j++;
    }
    if (j === nameStart || buf[j] !== 58 /* : */) return "node";
    const nameEnd = j;
    j++;
    while (buf[j] === 32 || buf[j] === 9) j++;
    const valueStart = j;
    let valueEnd = j;
    for (;;) {
      const c = buf[j] as number;
      if (c === 13) break;
      if ((c < 32 && c !== 9) || c === 127) return "node"; // a control character (a bare LF too)
      j++;
      if (c !== 32 && c !== 9) valueEnd = j;
    }
    let name = knownName(buf, nameStart, nameEnd);
    let value: string | undefined;
    if (name === undefined) {
      name = buf.toString("latin1", nameStart, nameEnd);
      if (upper) name = name.toLowerCase();
    } else if (REPEATED.has(name)) {
      // the same value as the last request's (Host, Content-Type, ...): that string again
      value = lastValues.get(name);
      if (value !== undefined && !sameLatin1(buf, valueStart, valueEnd, value)) value = undefined;
    }
    if (Object.hasOwn(headers, name) || REFUSED.has(name)) return "node";
    if (value === undefined) {
      value = buf.toString("latin1", valueStart, valueEnd);
      if (REPEATED.has(name)) lastValues.set(name, value);
    }
    headers[name] = value;
    i = j;
  }
  if (buf[end + 1] !== 10) return "node";
  const length = headers["content-length"];
  if (headers.host === undefined || length === undefined || !/^\d{1,6}$/.test(length)) return "node";
  const bodyLength = Number(length);
  if (bodyLength > MAX_LEAN_BODY) return "node";
  const connection = headers.connection?.toLowerCase();
  if (connection !== undefined && connection !== "keep-alive" && connection !== "close") return "node";
  return {
    method: request.method,
    target: request.target,
    headers,
    headLength: end + 4,
    bodyLength,
    close: connection === "close",
  };
}

/** The accepted request line `buf[0, end)` is, compared byte by byte (no string made per request). */
function requestLine(
  buf: Buffer,
  end: number,
  lines: ReadonlyMap<string, { method: string; target: string }>,
): { method: string; target: string } | undefined {
  for (const [line, request] of lines) {
    if (line.length !== end) continue;
    let i = 0;
    while (i < end && buf[i] === line.charCodeAt(i)) i++;
    if (i === end) return request;
  }
  return undefined;
}

/** Header names most requests carry, lowercased, by length: found without a string made per request. */
const KNOWN_NAMES = new Map<number, string[]>();
for (const name of [
  "host",
  "content-type",
  "content-length",
  "connection",
  "authorization",
  "user-agent",
  "accept",
  "origin",
]) {
  KNOWN_NAMES.set(name.length, [...(KNOWN_NAMES.get(name.length) ?? []), name]);
}

/**
 * The lowercased name at `buf[start, end)` when it is one of KNOWN_NAMES in any case, else
 * undefined. The bytes are tokens (checked before): for letters and `-`, `byte | 0x20` folds case
 * and matches nothing else.
 */
function knownName(buf: Buffer, start: number, end: number): string | undefined {
  const names = KNOWN_NAMES.get(end - start);
  if (names === undefined) return undefined;
  for (const name of names) {
    let i = 0;
    while (start + i < end && ((buf[start + i] as number) | 0x20) === name.charCodeAt(i)) i++;
    if (start + i === end) return name;
  }
  return undefined;
}

/**
 * The last value read of a few headers whose value repeats from request to request, to be given
 * again when the bytes are the same. Never a credential (Authorization is not cached: comparing
 * a secret byte by byte against another client's would leak it through timing).
 */
const lastValues = new Map<string, string>();
const REPEATED = new Set(["host", "content-type", "content-length"]);

function sameLatin1(buf: Buffer, start: number, end: number, text: string): boolean {
  if (text.length !== end - start) return false;
  for (let i = 0; i < text.length; i++) if (buf[start + i] !== text.charCodeAt(i)) return false;
  return true;
}
