/**
 * The bytes of `parts` one after the other: no copy when there is one part, or when the parts lie
 * one after the other in one buffer (events encoded one after the other share a slab:
 * src/core/encoder.ts), else one new buffer.
 */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const first = parts[0];
  if (first === undefined) return new Uint8Array(0);
  if (parts.length === 1) return first;
  let size = 0;
  let contiguous = true;
  let next = first.byteOffset;
  for (const part of parts) {
    if (part.buffer !== first.buffer || part.byteOffset !== next) contiguous = false;
    next = part.byteOffset + part.length;
    size += part.length;
  }
  if (contiguous) return new Uint8Array(first.buffer, first.byteOffset, size);
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
