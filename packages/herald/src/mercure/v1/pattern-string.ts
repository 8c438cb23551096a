/**
 * One component of a WHATWG URL Pattern (its "pattern string", e.g. `/books/:id`) turned into a
 * regular expression source, as the URL Pattern standard does it ("parse a pattern string",
 * "generate a regular expression and name list"), but written for RE2 (re2js), a linear-time
 * engine, instead of JavaScript's backtracking RegExp:
 * - the segment wildcard of a component with no delimiter is `[^]+?` in the standard; RE2 has no
 *   `[^]`, so it becomes `[\s\S]+?` (the same set);
 * - a custom regexp group (`:id(\d+)`) is passed as written: RE2 refuses what it cannot run in
 *   linear time (backreferences, lookaheads), and the caller answers that as an invalid pattern.
 *
 * Input: the component pattern strings that `URLPattern` (urlpattern-polyfill) exposes after it
 * has parsed and canonicalized a pattern: their fixed text is already encoded, so no encoding
 * callback runs here. Throws `PatternStringError` for what the standard's parser refuses.
 */

export class PatternStringError extends Error {
  override readonly name = "PatternStringError";
}

type TokenType =
  | "open"
  | "close"
  | "regexp"
  | "name"
  | "char"
  | "escaped-char"
  | "modifier"
  | "asterisk"
  | "end";

interface Token {
  readonly type: TokenType;
  readonly value: string;
}

type Modifier = "" | "?" | "*" | "+";

/** A part of a parsed pattern string (the standard's "part"). */
export type Part =
  | { readonly type: "fixed"; readonly value: string; readonly modifier: Modifier }
  | {
      readonly type: "segment-wildcard" | "full-wildcard" | "regexp";
      /** The custom regexp (type `regexp` only). */
      readonly value: string;
      readonly modifier: Modifier;
      readonly name: string;
      readonly prefix: string;
      readonly suffix: string;
    };

/** A component's options: the standard's default, hostname and pathname options. */
export interface ComponentOptions {
  /** "" (default), "." (hostname) or "/" (pathname of a special scheme). */
  readonly delimiter: string;
  /** "" or "/" (pathname of a special scheme). */
  readonly prefix: string;
}

export const DEFAULT_OPTIONS: ComponentOptions = { delimiter: "", prefix: "" };
export const HOSTNAME_OPTIONS: ComponentOptions = { delimiter: ".", prefix: "" };
export const PATHNAME_OPTIONS: ComponentOptions = { delimiter: "/", prefix: "/" };

const FULL_WILDCARD = ".*";

/** The standard's segment wildcard, as the standard writes it (what a custom regexp is compared with). */
function segmentWildcard(options: ComponentOptions): string {
  return `[^${escapeRegexp(options.delimiter)}]+?`;
}

/** The same, as RE2 reads it. */
function re2SegmentWildcard(options: ComponentOptions): string {
  return options.delimiter === "" ? "[\\s\\S]+?" : segmentWildcard(options);
}

/** The standard's "escape a regexp string". */
export function escapeRegexp(text: string): string {
  return text.replace(/[.+*?^${}()[\]|/\\]/g, "\\$&");
}

const NAME_START = /[$_\p{ID_Start}]/u;
const NAME_PART = /^(?:[$_\p{ID_Continue}]|\u200c|\u200d)$/u;

/** The standard's tokenizer, "strict" policy. */
function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  const chars = [...input];
  let i = 0;
  const fail = (why: string): never => {
    throw new PatternStringError(`${why} at position ${i} of ${JSON.stringify(input)}`);
  };
  while (i < chars.length) {
    const c = chars[i] as string;
    if (c === "*") {
      tokens.push({ type: "asterisk", value: c });
      i++;
    } else if (c === "+" || c === "?") {
      tokens.push({ type: "modifier", value: c });
      i++;
    } else if (c === "\\") {
      if (i + 1 >= chars.length) fail("a pattern must not end with a backslash");
      tokens.push({ type: "escaped-char", value: chars[i + 1] as string });
      i += 2;
    } else if (c === "{") {
      tokens.push({ type: "open", value: c });
      i++;
    } else if (c === "}") {
      tokens.push({ type: "close", value: c });
      i++;
    } else if (c === ":") {
      let j = i + 1;
      while (j < chars.length && (j === i + 1 ? NAME_START : NAME_PART).test(chars[j] as string)) j++;
      if (j === i + 1) fail('a ":" must be followed by a name');
      tokens.push({ type: "name", value: chars.slice(i + 1, j).join("") });
      i = j;
    } else if (c === "(") {
      let depth = 1;
      let j = i + 1;
      let value = "";
      while (j < chars.length) {
        const d = chars[j] as string;
        if (d.charCodeAt(0) > 0x7f) fail("a regexp group must be ASCII");
        if (j === i + 1 && d === "?") fail('a regexp group must not start with "?"');
        if (d === "\\") {
          const next = chars[j + 1];
          if (next === undefined || next.charCodeAt(0) > 0x7f) fail("bad escape in a regexp group");
          value += d + next;
          j += 2;
          continue;
        }
        if (d === ")") {
          depth--;
          if (depth === 0) {
            j++;
            break;
          }
        } else if (d === "(") {
          depth++;
          if (chars[j + 1] !== "?")
            fail("capturing groups are not allowed inside a regexp group; use (?:...)");
        }
        value += d;
        j++;
      }
      if (depth !== 0) fail("unbalanced regexp group");
      if (value === "") fail("empty regexp group");
      tokens.push({ type: "regexp", value });
      i = j;
    } else {
      tokens.push({ type: "char", value: c });
      i++;
    }
  }
  tokens.push({ type: "end", value: "" });
  return tokens;
}

/** The standard's "parse a pattern string" (fixed text taken as already encoded). */
export function parsePatternString(input: string, options: ComponentOptions): Part[] {
  const tokens = tokenize(input);
  const parts: Part[] = [];
  const segment = segmentWildcard(options);
  let index = 0;
  let pending = "";
  let nextNumericName = 0;
  const names = new Set<string>();

  const tryConsume = (...types: TokenType[]): Token | undefined => {
    const token = tokens[index] as Token;
    if (!types.includes(token.type)) return undefined;
    index++;
    return token;
  };
  const consumeRequired = (type: TokenType): Token => {
    const token = tryConsume(type);
    if (token === undefined) {
      throw new PatternStringError(
        `expected ${type === "close" ? '"}"' : "the end"} in ${JSON.stringify(input)}, found ${JSON.stringify(tokens[index]?.value)}`,
      );
    }
    return token;
  };
  const tryRegexpOrWildcard = (name: Token | undefined): Token | undefined => {
    const token = tryConsume("regexp");
    if (name === undefined && token === undefined) return tryConsume("asterisk");
    return token;
  };
  const consumeText = (): string => {
    let text = "";
    for (;;) {
      const token = tryConsume("char", "escaped-char");
      if (token === undefined) return text;
      text += token.value;
    }
  };
  const flushPending = (): void => {
    if (pending === "") return;
    parts.push({ type: "fixed", value: pending, modifier: "" });
    pending = "";
  };
  const addPart = (
    prefix: string,
    nameToken: Token | undefined,
    regexpToken: Token | undefined,
    suffix: string,
    modifierToken: Token | undefined,
  ): void => {
    const modifier = (modifierToken?.value ?? "") as Modifier;
    if (nameToken === undefined && regexpToken === undefined && modifier === "") {
      pending += prefix;
      return;
    }
    flushPending();
    if (nameToken === undefined && regexpToken === undefined) {
      if (prefix !== "") parts.push({ type: "fixed", value: prefix, modifier });
      return;
    }
    let value: string;
    if (regexpToken === undefined) value = segment;
    else if (regexpToken.type === "asterisk") value = FULL_WILDCARD;
    else value = regexpToken.value;
    let type: "segment-wildcard" | "full-wildcard" | "regexp" = "regexp";
    if (value === segment) {
      type = "segment-wildcard";
      value = "";
    } else if (value === FULL_WILDCARD) {
      type = "full-wildcard";
      value = "";
    }
    const name = nameToken !== undefined ? nameToken.value : String(nextNumericName++);
    if (names.has(name)) throw new PatternStringError(`the name ${JSON.stringify(name)} is used twice`);
    names.add(name);
    parts.push({ type, value, modifier, name, prefix, suffix });
  };

  while (index < tokens.length) {
    const charToken = tryConsume("char");
    let nameToken = tryConsume("name");
    let regexpToken = tryRegexpOrWildcard(nameToken);
    if (nameToken !== undefined || regexpToken !== undefined) {
      let prefix = charToken?.value ?? "";
      if (prefix !== "" && prefix !== options.prefix) {
        pending += prefix;
        prefix = "";
      }
      flushPending();
      addPart(prefix, nameToken, regexpToken, "", tryConsume("modifier", "asterisk"));
      continue;
    }
    const fixed = charToken ?? tryConsume("escaped-char");
    if (fixed !== undefined) {
      pending += fixed.value;
      continue;
    }
    if (tryConsume("open") !== undefined) {
      const prefix = consumeText();
      nameToken = tryConsume("name");
      regexpToken = tryRegexpOrWildcard(nameToken);
      const suffix = consumeText();
      consumeRequired("close");
      addPart(prefix, nameToken, regexpToken, suffix, tryConsume("modifier", "asterisk"));
      continue;
    }
    flushPending();
    consumeRequired("end");
  }
  return parts;
}

/**
 * The standard's "generate a regular expression" for `parts`, anchored (`^...$`), in RE2 syntax.
 * A component's value matches when the whole of it matches this expression.
 */
export function regexpOf(parts: readonly Part[], options: ComponentOptions): string {
  let result = "^";
  for (const part of parts) {
    if (part.type === "fixed") {
      result +=
        part.modifier === "" ? escapeRegexp(part.value) : `(?:${escapeRegexp(part.value)})${part.modifier}`;
      continue;
    }
    let value = part.value;
    if (part.type === "segment-wildcard") value = re2SegmentWildcard(options);
    else if (part.type === "full-wildcard") value = FULL_WILDCARD;
    const { prefix, suffix, modifier } = part;
    if (prefix === "" && suffix === "") {
      result += modifier === "" || modifier === "?" ? `(${value})${modifier}` : `((?:${value})${modifier})`;
      continue;
    }
    const p = escapeRegexp(prefix);
    const s = escapeRegexp(suffix);
    if (modifier === "" || modifier === "?") {
      result += `(?:${p}(${value})${s})${modifier}`;
      continue;
    }
    result += `(?:${p}((?:${value})(?:${s}${p}(?:${value}))*)${s})`;
    if (modifier === "*") result += "?";
  }
  return `${result}$`;
}

/** The fixed text every value matching `parts` starts with ("" when the pattern starts with a variable part). */
export function literalStart(parts: readonly Part[]): string {
  let literal = "";
  for (const part of parts) {
    if (part.type !== "fixed" || part.modifier !== "") break;
    literal += part.value;
  }
  return literal;
}

/** True when `parts` is exactly the full wildcard `*` (the component matches anything). */
export function isFullWildcard(parts: readonly Part[]): boolean {
  const [only] = parts;
  return (
    parts.length === 1 &&
    only?.type === "full-wildcard" &&
    only.modifier === "" &&
    only.prefix === "" &&
    only.suffix === ""
  );
}

/** The fixed value when `parts` has no variable part (the component must equal it), else undefined. */
export function fixedValue(parts: readonly Part[]): string | undefined {
  if (parts.some((p) => p.type !== "fixed" || p.modifier !== "")) return undefined;
  return parts.map((p) => p.value).join("");
}
