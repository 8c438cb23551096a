/**
 * Mercure 1.0 `urlpattern` matchers (spec "URL Pattern"): WHATWG URL Patterns
 * (`https://example.com/books/:id`, `/books/*`, `:id(\d+)`), evaluated with a linear-time engine.
 *
 * Why two libraries: URL Pattern compiles to regular expressions, and JavaScript's RegExp
 * backtracks. Node 24's own `URLPattern` and `urlpattern-polyfill` both run them on RegExp, and
 * one subscriber's pattern can then hold the event loop for seconds (`/:x((?:a+)+b)` against a
 * topic of 26 `a`: 4.5 s; four `*` against 200 characters: 0.7 s; docs/mercure.md). The spec
 * requires a linear-time engine or an evaluation limit. So:
 * - `urlpattern-polyfill` parses the pattern and canonicalizes it (the standard's constructor
 *   string parser, default ports, hostnames, percent-encoding): its RegExps are never run on a
 *   topic (the constructor runs the protocol's on the six special scheme names, a few
 *   characters each);
 * - each component's canonical pattern string is turned into an RE2 expression here
 *   (pattern-string.ts, the standard's algorithm) and compiled by `re2js` (RE2 in JavaScript:
 *   time linear in the input, whatever the expression). A custom regexp group RE2 cannot run
 *   that way (backreferences, lookaheads) makes the pattern invalid.
 *
 * Bounded cost, as for URI templates (docs/limits.md): a pattern longer than `maxLength` or whose
 * RE2 programs together exceed `maxProgram` instructions is refused (`UrlPatternTooComplex`),
 * counted repetitions are estimated before RE2 compiles anything (`{1000}` costs 1000), and a
 * match costs O(component length x program size) at worst (re2js runs one-pass expressions
 * directly, others on a lazy DFA bounded to `DFA_MEMORY` bytes, else its NFA), after cheap checks
 * of the fixed components and of each component's literal start. About 2 µs per component that
 * gets to RE2 (JavaScript's RegExp would take 0.1 µs, but without the bound).
 *
 * Topics are parsed as URLs against `base` (the hub's URL), so relative patterns and relative
 * topics work; a topic that is not a URL reference matches no pattern. `ignoreCase` is never on.
 */

import { RE2JS, RE2JSException } from "re2js";
import { URLPattern } from "urlpattern-polyfill/urlpattern";
import { charactersOver } from "../../core/characters.ts";
import {
  type ComponentOptions,
  DEFAULT_OPTIONS,
  fixedValue,
  HOSTNAME_OPTIONS,
  isFullWildcard,
  literalStart,
  PATHNAME_OPTIONS,
  PatternStringError,
  parsePatternString,
  regexpOf,
} from "./pattern-string.ts";

export class UrlPatternError extends Error {
  override readonly name: string = "UrlPatternError";
}

/** A valid pattern that costs more than the limits allow. */
export class UrlPatternTooComplex extends UrlPatternError {
  override readonly name = "UrlPatternTooComplex";
}

export interface UrlPatternLimits {
  /** Longest pattern text, in UTF-16 code units. */
  readonly maxLength: number;
  /** Most RE2 instructions of all the pattern's components together. */
  readonly maxProgram: number;
}

export interface CompiledUrlPattern {
  readonly source: string;
  /** Is `topic` (resolved against the base) matched? Pure, never throws, linear in the topic's length. */
  readonly test: (topic: string) => boolean;
  /** RE2 instructions of its components. */
  readonly size: number;
  /** Approximate bytes held. */
  readonly bytes: number;
}

const COMPONENTS = [
  "protocol",
  "username",
  "password",
  "hostname",
  "port",
  "pathname",
  "search",
  "hash",
] as const;
type Component = (typeof COMPONENTS)[number];
type Components = Record<Component, string>;

const SPECIAL_SCHEMES = ["ftp", "file", "http", "https", "ws", "wss"];

/** How one component is checked: equal to `fixed`, or starting with `start` and matching `re`. */
interface ComponentMatcher {
  readonly component: Component;
  readonly fixed?: string;
  readonly start: string;
  readonly re?: RE2JS;
}

/** Bytes per RE2 instruction, roughly (instruction objects, rune arrays). */
const BYTES_PER_INSTRUCTION = 96;
const OVERHEAD_BYTES = 2048;

/**
 * Compiles `source` against `base` (the hub's URL, for relative patterns). Throws
 * `UrlPatternError` (not a URL pattern, or one RE2 cannot run) or `UrlPatternTooComplex`.
 */
export function compileUrlPattern(
  source: string,
  base: string,
  limits: UrlPatternLimits,
): CompiledUrlPattern {
  const long = charactersOver(source, limits.maxLength);
  if (long !== undefined) {
    throw new UrlPatternTooComplex(`it is ${long} characters long, the limit is ${limits.maxLength}`);
  }
  let pattern: URLPattern;
  try {
    pattern = new URLPattern(source, base);
  } catch (error) {
    throw new UrlPatternError(`not a valid URL pattern: ${(error as Error).message}`);
  }
  const matchers: ComponentMatcher[] = [];
  let size = 0;
  let special = false;
  for (const component of COMPONENTS) {
    const options = optionsOf(component, special);
    let parts: ReturnType<typeof parsePatternString>;
    try {
      parts = parsePatternString(pattern[component], options);
    } catch (error) {
      if (error instanceof PatternStringError)
        throw new UrlPatternError(`not a valid URL pattern: ${error.message}`);
      throw error;
    }
    if (isFullWildcard(parts)) {
      if (component === "protocol") special = true;
      continue;
    }
    const fixed = fixedValue(parts);
    if (fixed !== undefined) {
      if (component === "protocol") special = SPECIAL_SCHEMES.includes(fixed);
      matchers.push({ component, fixed, start: fixed });
      continue;
    }
    const expression = regexpOf(parts, options);
    const estimate = estimateProgram(expression);
    if (size + estimate > 2 * limits.maxProgram) {
      throw new UrlPatternTooComplex(
        `its ${component} needs about ${estimate} RE2 instructions, the limit is ${limits.maxProgram}`,
      );
    }
    let re: RE2JS;
    try {
      re = RE2JS.compile(expression);
    } catch (error) {
      if (error instanceof RE2JSException) {
        throw new UrlPatternError(
          `its ${component} cannot be matched in linear time (RE2: ${error.message}); backreferences and lookarounds are not supported`,
        );
      }
      throw error;
    }
    bindSmallDfa(re);
    size += re.programSize();
    if (size > limits.maxProgram) {
      throw new UrlPatternTooComplex(
        `it needs ${size} RE2 instructions or more, the limit is ${limits.maxProgram}`,
      );
    }
    if (component === "protocol") special = SPECIAL_SCHEMES.some((scheme) => re.matcher(scheme).matches());
    matchers.push({ component, start: literalStart(parts), re });
  }
  // Fixed components first: they are the cheapest and most selective checks.
  matchers.sort((a, b) => Number(a.fixed === undefined) - Number(b.fixed === undefined));
  const test = (topic: string): boolean => {
    const components = componentsOf(topic, base);
    if (components === undefined) return false;
    for (const m of matchers) {
      const value = components[m.component];
      if (m.fixed !== undefined) {
        if (value !== m.fixed) return false;
      } else if (!value.startsWith(m.start) || !(m.re as RE2JS).testExact(value)) {
        return false;
      }
    }
    return true;
  };
  return { source, test, size, bytes: OVERHEAD_BYTES + size * BYTES_PER_INSTRUCTION + source.length * 4 };
}

/**
 * What one check of a pattern costs the hub, in its units of work (about 0.1 µs: see
 * core/fanout.ts): a topic that gets to RE2 takes ~5-25 µs here, so the hub counts 200 units and
 * yields the event loop after a step's worth of checks (docs/mercure.md).
 */
export const URL_PATTERN_CHECK_COST = 200;

/** Most bytes the lazy DFA of one component may take (re2js's default is 8 MB per expression). */
export const DFA_MEMORY = 32 * 1024;

/** The internals of re2js 2.x that `bindSmallDfa` reaches (checked at run time). */
interface Re2Internals {
  re2Input?: { prog?: unknown; lazyDFA?: { maxMem?: number } | null };
}

let dfaClass: (new (prog: unknown, maxMem: number) => { maxMem?: number }) | null | undefined;

/**
 * Gives `re` a lazy DFA bounded to `DFA_MEMORY` bytes: `testExact` then walks a DFA (one step
 * per character once its states are cached), and an expression whose DFA would grow past the
 * bound has its cache cleared and, past that, falls back to RE2's linear NFA. re2js exports no
 * way to set it, so its DFA class is taken from a compiled expression; if a later re2js changes
 * its internals, nothing is bound and its own DFA (8 MB at most) is used.
 */
function bindSmallDfa(re: RE2JS): void {
  if (dfaClass === undefined) {
    const probe = RE2JS.compile("^a$");
    probe.testExact("a");
    const dfa = (probe as unknown as Re2Internals).re2Input?.lazyDFA;
    dfaClass =
      dfa !== null && dfa !== undefined && dfa.maxMem !== undefined
        ? (dfa.constructor as unknown as typeof dfaClass)
        : null;
  }
  const inner = (re as unknown as Re2Internals).re2Input;
  if (dfaClass === null || dfaClass === undefined || inner?.prog === undefined) return;
  inner.lazyDFA = new dfaClass(inner.prog, DFA_MEMORY);
}

function optionsOf(component: Component, special: boolean): ComponentOptions {
  if (component === "hostname") return HOSTNAME_OPTIONS;
  if (component === "pathname" && special) return PATHNAME_OPTIONS;
  return DEFAULT_OPTIONS;
}

/**
 * The components of `topic` resolved against `base`, as URL Pattern matching reads them, or
 * undefined when it is not a URL reference. The last answer is kept: the hub asks every pattern
 * about the same topic in a row.
 */
let lastTopic: string | undefined;
let lastBase: string | undefined;
let lastComponents: Components | undefined;

export function componentsOf(topic: string, base: string): Components | undefined {
  if (topic === lastTopic && base === lastBase) return lastComponents;
  let components: Components | undefined;
  try {
    const url = new URL(topic, base);
    components = {
      protocol: url.protocol.slice(0, -1),
      username: url.username,
      password: url.password,
      hostname: url.hostname,
      port: url.port,
      pathname: url.pathname,
      search: url.search.slice(1),
      hash: url.hash.slice(1),
    };
  } catch {
    components = undefined;
  }
  lastTopic = topic;
  lastBase = base;
  lastComponents = components;
  return components;
}

/**
 * An upper estimate of the RE2 instructions of `expression`, computed without compiling it:
 * counted repetitions multiply what they repeat (RE2 expands them), so `(?:a{1000}){30}` is
 * refused before RE2 spends hundreds of ms building it.
 */
export function estimateProgram(expression: string): number {
  const sums: number[] = [0];
  let last = 0;
  const add = (n: number) => {
    sums[sums.length - 1] = (sums[sums.length - 1] as number) + n;
  };
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === "\\") {
      const next = expression[i + 1];
      i++;
      if ((next === "x" || next === "p" || next === "P") && expression[i + 1] === "{") {
        const end = expression.indexOf("}", i);
        i = end < 0 ? expression.length : end;
      }
      last = 1;
      add(1);
    } else if (c === "[") {
      let j = i + 1;
      if (expression[j] === "^") j++;
      if (expression[j] === "]") j++;
      while (j < expression.length && expression[j] !== "]") j += expression[j] === "\\" ? 2 : 1;
      i = j;
      last = 1;
      add(1);
    } else if (c === "(") {
      sums.push(0);
    } else if (c === ")") {
      const inner = sums.length > 1 ? (sums.pop() as number) : 0;
      last = inner + 2;
      add(last);
    } else if (c === "{") {
      const repeat = /^\{(\d+)(?:,(\d*))?\}/.exec(expression.slice(i, i + 24));
      if (repeat === null) {
        last = 1;
        add(1);
        continue;
      }
      const times = Math.max(1, Number(repeat[1]), Number(repeat[2] || 0));
      add(-last);
      last = last * times + 1;
      add(last);
      i += repeat[0].length - 1;
    } else {
      last = 1;
      add(1);
    }
  }
  while (sums.length > 1) add(sums.pop() as number);
  return sums[0] as number;
}
