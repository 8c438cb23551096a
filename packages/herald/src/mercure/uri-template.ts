import {
  alt,
  type CharClass,
  cls,
  Nfa,
  opt,
  type Pattern,
  PatternTooComplex,
  seq,
  star,
  subset,
  text,
  upTo,
} from "./nfa.ts";

/**
 * Matching a topic against an RFC 6570 URI template (levels 1 to 4), as Mercure's topic selectors
 * do: the topic matches when some assignment of the template's variables expands to exactly it.
 *
 * What a variable's value may contain follows the operator, as in the Mercure hub (yosida95's
 * uritemplate): `{id}`, `{.x}`, `{/x}`, `{;x}`, `{?x}`, `{&x}` take unreserved characters and
 * percent-encoded triplets (so `{id}` never spans a `/`); `{+x}` and `{#x}` also take reserved
 * characters. IRI characters (U+00A0 and up) count as unreserved, so IRI topics match too.
 * `{?x}` matches `?x=<value>`; explode (`*`) and prefix (`:n`) modifiers are honoured.
 *
 * Matching runs on an NFA (nfa.ts): linear in the topic's length, safe with untrusted templates.
 */

export interface CompileOptions {
  /** Longest topic that will be matched: a prefix `:n` longer than this is clamped (same result). */
  readonly maxTopicLength: number;
  /** Most NFA states one template may need; a bigger template is refused as too complex. */
  readonly maxStates: number;
  /**
   * When given, the whole DFA is built at once (at most `states` DFA states, `steps` NFA states
   * visited to build it) so that every match is one table lookup per character; a template whose
   * DFA does not fit is refused as too complex. Without it the DFA is built lazily, with the NFA
   * simulated past a bounded cache (fit for trusted templates).
   */
  readonly dfa?: { readonly states: number; readonly steps: number };
}

/** `source` is not a valid URI template. */
export class TemplateError extends Error {
  override readonly name: string = "TemplateError";
}

/** `source` is a valid template, but too big to match in bounded time. */
export class TemplateTooComplex extends TemplateError {
  override readonly name = "TemplateTooComplex";
}

interface VarSpec {
  readonly name: string;
  readonly explode: boolean;
  /** The `:n` prefix length, or undefined. */
  readonly prefix: number | undefined;
}

interface Operator {
  readonly first: string;
  readonly sep: string;
  readonly named: boolean;
  /** What follows the name of a named variable whose value is empty: "" for `;`, "=" for `?`/`&`. */
  readonly ifEmpty: "" | "=";
  readonly allow: CharClass;
}

const OPERATORS: Record<string, Operator> = {
  "": { first: "", sep: ",", named: false, ifEmpty: "", allow: "unreserved" },
  "+": { first: "", sep: ",", named: false, ifEmpty: "", allow: "uri" },
  "#": { first: "#", sep: ",", named: false, ifEmpty: "", allow: "uri" },
  ".": { first: ".", sep: ".", named: false, ifEmpty: "", allow: "unreserved" },
  "/": { first: "/", sep: "/", named: false, ifEmpty: "", allow: "unreserved" },
  ";": { first: ";", sep: ";", named: true, ifEmpty: "", allow: "unreserved" },
  "?": { first: "?", sep: "&", named: true, ifEmpty: "=", allow: "unreserved" },
  "&": { first: "&", sep: "&", named: true, ifEmpty: "=", allow: "unreserved" },
};

/** Most variables in one template: far above real selectors, and keeps compiling cheap (< 1 ms). */
export const MAX_VARIABLES = 32;

const VARNAME = /^(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:\.?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2}))*$/;

/** True when `text` contains an expression (`{...}`): only then is it worth compiling. */
export function looksLikeTemplate(source: string): boolean {
  return source.includes("{");
}

/** A compiled template: share it (matching needs no state of its caller). */
export interface CompiledTemplate {
  /** The text before the first expression: every topic it matches starts with it. */
  readonly literal: string;
  /** NFA states after the literal (about 17 per variable, 1 per later literal character). */
  readonly size: number;
  /** States of its complete DFA (`CompileOptions.dfa`), else undefined. */
  readonly dfaStates: number | undefined;
  /** Bytes it may hold (its NFA and the most its DFA cache may grow to). */
  readonly bytes: number;
  matches(topic: string): boolean;
}

/**
 * Compiles a template into a matcher. Throws `TemplateError` when `source` is not a valid URI
 * template (the caller then treats it as a plain string), `TemplateTooComplex` when it is too big
 * to match cheaply.
 */
export function compileTemplate(source: string, options: CompileOptions): (topic: string) => boolean {
  const compiled = compileTemplateMatcher(source, options);
  return (topic) => compiled.matches(topic);
}

/** `compileTemplate`, with what a cache needs to know about the result. */
export function compileTemplateMatcher(source: string, options: CompileOptions): CompiledTemplate {
  const parts = parseTemplate(source, options);
  // Most templates start with a literal (`https://example.com/books/`): it is checked with
  // `startsWith`, and only the rest runs on the NFA.
  const first = source.indexOf("{");
  const literal = first === -1 ? source : source.slice(0, first);
  if (literal.length > 0) parts.shift();
  let nfa: Nfa;
  try {
    nfa = Nfa.compile(seq(...parts), options.maxStates);
  } catch (error) {
    if (error instanceof PatternTooComplex) {
      throw new TemplateTooComplex(
        `it compiles to more than ${options.maxStates} states (about 17 per variable, 1 per character after the first variable)`,
      );
    }
    throw error;
  }
  // ... and many end with one (`.json`, `/`): topics without it are refused at once too.
  const last = source.lastIndexOf("}");
  const suffix = first === -1 ? "" : source.slice(last + 1);
  if (options.dfa !== undefined && !nfa.complete(options.dfa.states, options.dfa.steps)) {
    throw new TemplateTooComplex(
      `its matcher needs more than ${options.dfa.states} states (about n for each {x:n}, about 10 for each variable of {?...} or {;...})`,
    );
  }
  return {
    literal,
    size: nfa.size,
    dfaStates: nfa.dfaStates,
    bytes: nfa.bytes,
    matches: nfa.matcher(literal, suffix),
  };
}

/**
 * The parts of a template, in order (literal texts and expressions): cheap, no automaton built.
 * Throws `TemplateError` when `source` is not a valid template, `TemplateTooComplex` over 32
 * variables.
 */
function parseTemplate(source: string, options: CompileOptions): Pattern[] {
  const parts: Pattern[] = [];
  let variables = 0;
  let i = 0;
  while (i < source.length) {
    const open = source.indexOf("{", i);
    const close = source.indexOf("}", i);
    if (close !== -1 && (open === -1 || close < open)) throw new TemplateError(`unmatched "}" at ${close}`);
    if (open === -1) {
      parts.push(text(source.slice(i)));
      break;
    }
    if (open > i) parts.push(text(source.slice(i, open)));
    const end = source.indexOf("}", open);
    if (end === -1) throw new TemplateError(`unclosed "{" at ${open}`);
    const body = source.slice(open + 1, end);
    variables += body.split(",").length;
    if (variables > MAX_VARIABLES) {
      throw new TemplateTooComplex(`it has more than ${MAX_VARIABLES} variables`);
    }
    parts.push(expression(body, options));
    i = end + 1;
  }
  return parts;
}

/** True when `source` is a valid URI template (it may still be too complex to be taken). */
export function isTemplate(source: string): boolean {
  try {
    parseTemplate(source, { maxTopicLength: 1, maxStates: 1 });
    return true;
  } catch (error) {
    return !(error instanceof TemplateError) || error instanceof TemplateTooComplex;
  }
}

function expression(body: string, options: CompileOptions): Pattern {
  if (body.length === 0) throw new TemplateError("empty expression {}");
  let operator = OPERATORS[""] as Operator;
  let list = body;
  const head = body[0] as string;
  if (head in OPERATORS && head !== "") {
    operator = OPERATORS[head] as Operator;
    list = body.slice(1);
  } else if ("=,!@|".includes(head)) {
    throw new TemplateError(`operator "${head}" is reserved by RFC 6570`);
  }
  const vars = list.split(",").map((spec) => varSpec(spec));
  // The expansion is: nothing (every variable undefined), or `first`, then the defined variables
  // in order, joined by `sep`.
  const items = vars.map((v) => item(v, operator, options));
  return opt(seq(text(operator.first), subset(operator.sep, items)));
}

function varSpec(spec: string): VarSpec {
  let name = spec;
  let explode = false;
  let prefix: number | undefined;
  if (spec.endsWith("*")) {
    explode = true;
    name = spec.slice(0, -1);
  } else {
    const colon = spec.indexOf(":");
    if (colon !== -1) {
      const digits = spec.slice(colon + 1);
      if (!/^[1-9][0-9]{0,3}$/.test(digits)) throw new TemplateError(`bad prefix modifier in "${spec}"`);
      prefix = Number(digits);
      name = spec.slice(0, colon);
    }
  }
  if (!VARNAME.test(name)) throw new TemplateError(`bad variable name "${name}"`);
  return { name, explode, prefix };
}

/** How one defined variable expands under `op`. */
function item(v: VarSpec, op: Operator, options: CompileOptions): Pattern {
  const unit = alt(cls(op.allow), seq(text("%"), cls("hex"), cls("hex")));
  const value = star(unit);
  // A list or map value, not exploded, is its members joined by ",".
  const scalarOrList =
    v.prefix === undefined
      ? seq(value, star(seq(text(","), value)))
      : upTo(unit, Math.min(v.prefix, options.maxTopicLength));
  const eqValue = (p: Pattern) => (op.ifEmpty === "=" ? seq(text("="), p) : opt(seq(text("="), p)));
  if (!op.named) {
    if (!v.explode) return scalarOrList;
    // Exploded: members (or key=value pairs) joined by the operator's separator.
    const member = seq(value, opt(seq(text("="), value)));
    return seq(member, star(seq(text(op.sep), member)));
  }
  if (!v.explode) return seq(text(v.name), eqValue(scalarOrList));
  // Exploded named: name=value per member (lists) or key=value per entry (maps).
  const pair = seq(unit, star(unit), eqValue(value));
  return seq(pair, star(seq(text(op.sep), pair)));
}
