/**
 * HTTP/1.1 chunked framing for bytes written straight to a socket: `<size hex>\r\n<bytes>\r\n`.
 *
 * The hub writes the same bytes (one event, or one batch shared by a topic's subscribers) to many
 * connections one after the other, so the last framing is remembered: the framed copy is built once
 * and shared, with no allocation per connection.
 */
const CRLF = Buffer.from("\r\n");
let lastIn: Uint8Array | undefined;
let lastOut: Buffer | undefined;

export function frameChunk(bytes: Uint8Array): Buffer {
  if (bytes === lastIn) return lastOut as Buffer;
  const head = Buffer.from(`${bytes.length.toString(16)}\r\n`, "latin1");
  const out = Buffer.allocUnsafe(head.length + bytes.length + 2);
  head.copy(out, 0);
  out.set(bytes, head.length);
  CRLF.copy(out, head.length + bytes.length);
  lastIn = bytes;
  lastOut = out;
  return out;
}
