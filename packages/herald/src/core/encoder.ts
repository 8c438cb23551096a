/**
 * The event-stream encoder, following the WHATWG HTML "Server-sent events" section.
 *
 * Contracts:
 * - `id` and `type` must already be free of CR, LF and NUL (`validatePublish` refuses them); the
 *   encoder does not check again on the hot path.
 * - `data` may hold any text: every line break (CRLF, CR or LF) starts a new `data:` line, so a
 *   conforming parser rebuilds the text with each break as LF. Each line is written after `data: `
 *   (colon + one space), because a parser strips exactly one space: a line's own leading space survives.
 * - Output lines end with LF. A stream never starts with event bytes (the opening comment comes
 *   first), so a leading U+FEFF in data is never taken for the stream's BOM.
 */
const utf8 = new TextEncoder();
const LINE_BREAK = /\r\n|\r|\n/;

export interface EncodableEvent {
  readonly id?: string | undefined;
  readonly type?: string | undefined;
  readonly retry?: number | undefined;
  readonly data: string;
}

export function encodeEventText(event: EncodableEvent): string {
  let out = "";
  if (event.id !== undefined) out += `id: ${event.id}\n`;
  if (event.type !== undefined) out += `event: ${event.type}\n`;
  if (event.retry !== undefined) out += `retry: ${event.retry}\n`;
  const data = event.data;
  if (data.indexOf("\n") === -1 && data.indexOf("\r") === -1) {
    out += `data: ${data}\n`;
  } else {
    for (const line of data.split(LINE_BREAK)) out += `data: ${line}\n`;
  }
  return `${out}\n`;
}

/**
 * The event's wire bytes. Small events are encoded into a shared 64 KiB slab (a view of it, as
 * node's Buffer pool does): no buffer of its own per event, which the garbage collector would
 * otherwise track one by one for as long as the history holds the event. A slab is freed once no
 * event viewing it is held. Bytes once written are never changed.
 */
export function encodeEvent(event: EncodableEvent): Uint8Array {
  return encodeSmall(encodeEventText(event));
}

const SLAB = 64 * 1024;
/** Texts up to this many characters go into the slab (at most 3 bytes each in UTF-8). */
const SMALL = 4096;
let slab = new Uint8Array(SLAB);
let slabUsed = 0;

function encodeSmall(text: string): Uint8Array {
  if (text.length > SMALL) return utf8.encode(text);
  if (slabUsed + text.length * 3 > SLAB) {
    slab = new Uint8Array(SLAB);
    slabUsed = 0;
  }
  const start = slabUsed;
  slabUsed += utf8.encodeInto(text, slab.subarray(start)).written;
  return slab.subarray(start, slabUsed);
}

/** A comment line (ignored by clients): heartbeats and the opening line. Line breaks are dropped. */
export function encodeComment(text: string): Uint8Array {
  return utf8.encode(`: ${text.replace(/[\r\n]+/g, " ")}\n\n`);
}

/** The `retry:` field alone: tells the client how long to wait before reconnecting. */
export function encodeRetry(ms: number): Uint8Array {
  return utf8.encode(`retry: ${Math.max(0, Math.floor(ms))}\n\n`);
}
