/**
 * A tiny pattern language and its Thompson NFA: what URI templates compile to (uri-template.ts).
 *
 * Why not a RegExp: templates come from untrusted subscribers, and JavaScript's backtracking engine
 * can take exponential time on patterns such as `{a}{b}{c}{d}` against a long topic. Simulating the
 * NFA state set instead costs O(topic length x states), whatever the pattern; `compile` refuses a
 * pattern over `maxStates`, so every match is bounded.
 */

/** Character classes on UTF-16 code units. */
export type CharClass =
  | "unreserved" // RFC 3986 unreserved, plus IRI characters (code units from U+00A0 up)
  | "uri" // unreserved plus RFC 3986 reserved (gen-delims and sub-delims)
  | "hex"; // a hexadecimal digit (the two after `%`)

export type Pattern =
  | { readonly t: "text"; readonly text: string }
  | { readonly t: "class"; readonly cls: CharClass }
  | { readonly t: "seq"; readonly items: readonly Pattern[] }
  | { readonly t: "alt"; readonly items: readonly Pattern[] }
  | { readonly t: "star"; readonly item: Pattern }
  | { readonly t: "opt"; readonly item: Pattern };

export const text = (value: string): Pattern => ({ t: "text", text: value });
export const cls = (c: CharClass): Pattern => ({ t: "class", cls: c });
export const seq = (...items: Pattern[]): Pattern => ({ t: "seq", items });
export const alt = (...items: Pattern[]): Pattern => ({ t: "alt", items });
export const star = (item: Pattern): Pattern => ({ t: "star", item });
export const opt = (item: Pattern): Pattern => ({ t: "opt", item });
/** `item` repeated 0 to `max` times. */
export const upTo = (item: Pattern, max: number): Pattern => {
  let pattern: Pattern = seq();
  for (let i = 0; i < max; i++) pattern = opt(seq(item, pattern));
  return pattern;
};

export class PatternTooComplex extends Error {
  override readonly name = "PatternTooComplex";
}

// State kinds.
const EPSILON = 0;
const CHAR = 1;
const UNRESERVED = 2;
const URI = 3;
const HEX = 4;
const ACCEPT = 5;

const CLASS_KIND: Record<CharClass, number> = { unreserved: UNRESERVED, uri: URI, hex: HEX };

/** A compiled pattern: `matches(s)` is true when the whole of `s` matches. Immutable, shareable. */
export class Nfa {
  private constructor(
    private readonly kind: Uint8Array,
    private readonly code: Uint16Array,
    private readonly out: Int32Array,
    private readonly out2: Int32Array,
    private readonly start: number,
  ) {}

  get size(): number {
    return this.kind.length;
  }

  static compile(pattern: Pattern, maxStates: number): Nfa {
    const kind: number[] = [ACCEPT];
    const code: number[] = [0];
    const out: number[] = [-1];
    const out2: number[] = [-1];
    const add = (k: number, c: number, o: number, o2: number): number => {
      if (kind.length >= maxStates) {
        throw new PatternTooComplex(`the pattern needs more than ${maxStates} states`);
      }
      kind.push(k);
      code.push(c);
      out.push(o);
      out2.push(o2);
      return kind.length - 1;
    };
    // Compiled back to front: each call returns the state that starts `p` and continues at `next`.
    const build = (p: Pattern, next: number): number => {
      switch (p.t) {
        case "text": {
          let state = next;
          for (let i = p.text.length - 1; i >= 0; i--) state = add(CHAR, p.text.charCodeAt(i), state, -1);
          return state;
        }
        case "class":
          return add(CLASS_KIND[p.cls], 0, next, -1);
        case "seq": {
          let state = next;
          for (let i = p.items.length - 1; i >= 0; i--) state = build(p.items[i] as Pattern, state);
          return state;
        }
        case "alt": {
          if (p.items.length === 0) return next;
          let state = build(p.items[p.items.length - 1] as Pattern, next);
          for (let i = p.items.length - 2; i >= 0; i--) {
            state = add(EPSILON, 0, build(p.items[i] as Pattern, next), state);
          }
          return state;
        }
        case "opt":
          return add(EPSILON, 0, build(p.item, next), next);
        case "star": {
          const loop = add(EPSILON, 0, -1, next);
          out[loop] = build(p.item, loop);
          return loop;
        }
      }
    };
    const start = build(pattern, 0);
    return new Nfa(
      Uint8Array.from(kind),
      Uint16Array.from(code),
      Int32Array.from(out),
      Int32Array.from(out2),
      start,
    );
  }

  // Scratch space reused by every `matches` call (JavaScript runs one call at a time): a state is
  // in the current set when mark[state] === generation.
  private scratch: { mark: Int32Array; a: Int32Array; b: Int32Array; stack: Int32Array } | undefined;
  private generation = 0;

  /** True when the whole of `input` matches. O(input.length x size); never throws. */
  matches(input: string): boolean {
    const n = this.kind.length;
    this.scratch ??= {
      mark: new Int32Array(n),
      a: new Int32Array(n),
      b: new Int32Array(n),
      stack: new Int32Array(2 * n + 2),
    };
    const { mark, stack } = this.scratch;
    let current = this.scratch.a;
    let next = this.scratch.b;
    if (this.generation > 0x3fffffff - input.length - 2) {
      mark.fill(0);
      this.generation = 0;
    }
    const kind = this.kind;
    const out = this.out;
    const out2 = this.out2;
    // Adds `state` and every state reachable from it by epsilon moves to `into`; returns the new count.
    const close = (state: number, generation: number, into: Int32Array, count: number): number => {
      let top = 0;
      stack[top++] = state;
      while (top > 0) {
        const s = stack[--top] as number;
        if (s < 0 || mark[s] === generation) continue;
        mark[s] = generation;
        if (kind[s] === EPSILON) {
          stack[top++] = out2[s] as number;
          stack[top++] = out[s] as number;
        } else {
          into[count++] = s;
        }
      }
      return count;
    };
    let generation = ++this.generation;
    let size = close(this.start, generation, current, 0);
    for (let i = 0; i < input.length; i++) {
      const c = input.charCodeAt(i);
      generation = ++this.generation;
      let nextSize = 0;
      for (let j = 0; j < size; j++) {
        const s = current[j] as number;
        if (this.accepts(s, c)) nextSize = close(out[s] as number, generation, next, nextSize);
      }
      if (nextSize === 0) return false;
      [current, next] = [next, current];
      size = nextSize;
    }
    for (let j = 0; j < size; j++) if (kind[current[j] as number] === ACCEPT) return true;
    return false;
  }

  private accepts(state: number, c: number): boolean {
    switch (this.kind[state]) {
      case CHAR:
        return this.code[state] === c;
      case UNRESERVED:
        return isUnreserved(c);
      case URI:
        return isUnreserved(c) || isReserved(c);
      case HEX:
        return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
      default:
        return false;
    }
  }
}

function isUnreserved(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || // a-z
    (c >= 65 && c <= 90) || // A-Z
    (c >= 48 && c <= 57) || // 0-9
    c === 45 || // -
    c === 46 || // .
    c === 95 || // _
    c === 126 || // ~
    c >= 0xa0 // IRI ucschar / iprivate (RFC 3987), as UTF-16 code units
  );
}

// :/?#[]@ !$&'()*+,;=
const RESERVED = new Set([...":/?#[]@!$&'()*+,;="].map((ch) => ch.charCodeAt(0)));

function isReserved(c: number): boolean {
  return RESERVED.has(c);
}
