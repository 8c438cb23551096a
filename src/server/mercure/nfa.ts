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

  /** True when the whole of `input` matches. O(input.length x size); never throws. */
  matches(input: string): boolean {
    const n = this.kind.length;
    const mark = new Int32Array(n).fill(-1);
    let current: number[] = [];
    let next: number[] = [];
    const stack: number[] = [];
    const close = (state: number, generation: number, into: number[]) => {
      stack.push(state);
      while (stack.length > 0) {
        const s = stack.pop() as number;
        if (s < 0 || mark[s] === generation) continue;
        mark[s] = generation;
        if (this.kind[s] === EPSILON) {
          stack.push(this.out2[s] as number, this.out[s] as number);
        } else {
          into.push(s);
        }
      }
    };
    close(this.start, 0, current);
    for (let i = 0; i < input.length; i++) {
      const c = input.charCodeAt(i);
      next.length = 0;
      for (const s of current) {
        if (this.accepts(s, c)) close(this.out[s] as number, i + 1, next);
      }
      if (next.length === 0) return false;
      [current, next] = [next, current];
    }
    return current.some((s) => this.kind[s] === ACCEPT);
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
