const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A header value as the client meant it. node:http reads header bytes as latin1 (one character per
 * byte), while browsers send a non-ASCII `Last-Event-ID` as UTF-8 (EventSource echoes the id it
 * received, which is UTF-8 on the wire): bytes that form valid UTF-8 are decoded as such; anything
 * else (true latin1) is kept as it came.
 */
export function headerText(value: string): string {
  if (!/[^\x20-\x7e\t]/.test(value)) return value; // printable ASCII: nothing to decode
  try {
    return utf8.decode(Buffer.from(value, "latin1"));
  } catch {
    return value;
  }
}
