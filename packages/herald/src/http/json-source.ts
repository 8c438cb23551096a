/**
 * The source text of values inside a JSON document: where a member's or an element's value is, and
 * that value's text made compact. Herald delivers a publisher's JSON `data` as written (a number
 * such as `12345678901234567891` or `1e400` survives, as do string escapes), which parsing into JS
 * values and serializing again would change.
 *
 * Contract: `text` is JSON that `JSON.parse` accepted (`parseJsonBody` in http/body.ts); nothing is
 * validated again here, and on any other text the results are unspecified (never an endless loop:
 * every index only moves forward). Positions are UTF-16 indexes into `text`; a `start` is the first
 * character of a value (no whitespace before it). Each function runs in time linear in the text it
 * reads, without recursion: nesting as deep as the text allows costs no stack.
 */

const QUOTE = 0x22; // "
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b; // {
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d;

/** JSON's whitespace (RFC 8259: space, tab, LF, CR); nothing else (U+FEFF, U+00A0) is. */
function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/** The index of the first character at or after `at` that is not JSON whitespace. */
export function skipSpace(text: string, at: number): number {
  while (at < text.length && isSpace(text.charCodeAt(at))) at++;
  return at;
}

/**
 * Just past the closing quote of the string whose opening quote is at `start`. `indexOf` finds each
 * quote (native, fast on long strings); the quote ends the string when an even number of
 * backslashes stands before it. Each run of backslashes is read once, by the quote right after it.
 */
function stringEnd(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote === -1) return text.length; // not JSON: see the contract
    let before = quote - 1;
    while (text.charCodeAt(before) === BACKSLASH) before--; // stops at the opening quote at the latest
    if ((quote - 1 - before) % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** Just past the JSON value (string, number, literal, object or array) beginning at `start`. */
export function valueEnd(text: string, start: number): number {
  const first = text.charCodeAt(start);
  if (first === QUOTE) return stringEnd(text, start);
  let i = start;
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
    // a number, true, false or null: up to the next delimiter
    while (i < text.length) {
      const code = text.charCodeAt(i);
      if (code === COMMA || code === CLOSE_OBJECT || code === CLOSE_ARRAY || isSpace(code)) break;
      i++;
    }
    return i;
  }
  let depth = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      i = stringEnd(text, i);
      continue;
    }
    if (code === OPEN_OBJECT || code === OPEN_ARRAY) depth++;
    else if ((code === CLOSE_OBJECT || code === CLOSE_ARRAY) && --depth === 0) return i + 1;
    i++;
  }
  return i;
}

/**
 * Whether the key whose quoted text spans [start, end) decodes to `key`. `key` holds no `"`, `\` nor
 * control character. Escapes are decoded (`"d\u0061ta"` is `data`): an escape is longer than the
 * character it stands for, so a key written as long as `key` matches only when written alike.
 */
function keyIs(text: string, start: number, end: number, key: string): boolean {
  const written = end - start - 2;
  if (written === key.length) return text.startsWith(key, start + 1);
  if (written < key.length) return false;
  for (let i = start + 1; i < end - 1; i++) {
    if (text.charCodeAt(i) === BACKSLASH) return JSON.parse(text.slice(start, end)) === key;
  }
  return false;
}

/**
 * The start of the value of the member named `key` in the object beginning at `start`; with the
 * same key written more than once, the last one's (as `JSON.parse` keeps the last). -1 when no
 * member has that name, or when the value at `start` is no object. `key` holds no `"`, `\` nor
 * control character.
 */
export function memberStart(text: string, start: number, key: string): number {
  if (text.charCodeAt(start) !== OPEN_OBJECT) return -1;
  let found = -1;
  let i = skipSpace(text, start + 1);
  if (text.charCodeAt(i) === CLOSE_OBJECT) return -1;
  while (i < text.length) {
    const keyEnd = stringEnd(text, i);
    const matches = keyIs(text, i, keyEnd, key);
    i = skipSpace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) return found; // not JSON: see the contract
    const value = skipSpace(text, i + 1);
    if (matches) found = value;
    i = skipSpace(text, valueEnd(text, value));
    if (text.charCodeAt(i) !== COMMA) return found; // the closing brace
    i = skipSpace(text, i + 1);
  }
  return found;
}

/** The starts of the elements of the array beginning at `start`, in order; [] when it is no array. */
export function elementStarts(text: string, start: number): number[] {
  const starts: number[] = [];
  if (text.charCodeAt(start) !== OPEN_ARRAY) return starts;
  let i = skipSpace(text, start + 1);
  if (text.charCodeAt(i) === CLOSE_ARRAY) return starts;
  while (i < text.length) {
    starts.push(i);
    i = skipSpace(text, valueEnd(text, i));
    if (text.charCodeAt(i) !== COMMA) return starts; // the closing bracket
    i = skipSpace(text, i + 1);
  }
  return starts;
}

/**
 * The text of the value beginning at `start`, as written except for the whitespace outside its
 * strings, removed: numbers keep their digits and form (`1.50`, `1E+2`, `-0`), strings their
 * escapes (`"\u00e9"`, `"\/"`). It holds no CR, LF or NUL (JSON strings escape them), so it is one
 * SSE `data:` line. The text is returned without a copy when it has no such whitespace.
 */
export function compactValue(text: string, start: number): string {
  const first = text.charCodeAt(start);
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) return text.slice(start, valueEnd(text, start));
  // as valueEnd, copying the text between runs of whitespace as it goes (one pass)
  let compact = "";
  let from = start; // the start of the text not yet copied into `compact`
  let depth = 0;
  let i = start;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      i = stringEnd(text, i);
      continue;
    }
    if (code === OPEN_OBJECT || code === OPEN_ARRAY) depth++;
    else if (code === CLOSE_OBJECT || code === CLOSE_ARRAY) {
      if (--depth === 0) {
        i++;
        break;
      }
    } else if (isSpace(code)) {
      compact += text.slice(from, i);
      i = skipSpace(text, i);
      from = i;
      continue;
    }
    i++;
  }
  return from === start ? text.slice(start, i) : compact + text.slice(from, i);
}
