/**
 * Length limits on topics, ids and types are in characters (Unicode code points), as the docs and
 * the error messages say: an emoji counts 1, not its 2 UTF-16 code units.
 */

/** The characters of `text` (code points; a lone surrogate counts 1). Linear in its length. */
export function characterCount(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

/**
 * The characters of `text` when they are more than `max`, else undefined. Free for texts of at most
 * `max` UTF-16 code units (every text under a limit, on the hot path): those have no more characters.
 */
export function charactersOver(text: string, max: number): number | undefined {
  if (text.length <= max) return undefined;
  const count = characterCount(text);
  return count > max ? count : undefined;
}
