/**
 * A tiny pattern language and its Thompson NFA: what URI templates compile to (uri-template.ts).
 *
 * Why not a RegExp: templates come from untrusted subscribers, and JavaScript's backtracking engine
 * can take exponential time on patterns such as `{a}{b}{c}{d}` against a long topic. Simulating the
 * NFA state set instead costs O(topic length x states), whatever the pattern; `compile` refuses a
 * pattern over `maxStates`, so every match is bounded. A DFA built lazily on top (bounded in
 * memory) makes the usual match one table lookup per character.
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
  | { readonly t: "opt"; readonly item: Pattern }
  /** One or more of `items`, in their order, joined by `sep` (compiled in size linear in `items`). */
  | { readonly t: "subset"; readonly sep: string; readonly items: readonly Pattern[] };

export const text = (value: string): Pattern => ({ t: "text", text: value });
export const cls = (c: CharClass): Pattern => ({ t: "class", cls: c });
export const seq = (...items: Pattern[]): Pattern => ({ t: "seq", items });
export const alt = (...items: Pattern[]): Pattern => ({ t: "alt", items });
export const star = (item: Pattern): Pattern => ({ t: "star", item });
export const opt = (item: Pattern): Pattern => ({ t: "opt", item });
export const subset = (sep: string, items: Pattern[]): Pattern => ({ t: "subset", sep, items });
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

/** Most bytes the DFA cache of one NFA may take (transition table and state sets); past it, matching simulates the NFA. */
export const DFA_BYTES = 4096;

// Transition table entries (2 bytes each, so tables stay small and in cache): a DFA state, or:
const UNKNOWN = 0xffff;
const DEAD = 0xfffe;
const FULL = 0xfffd; // returned only: the DFA cache is at its bound
/** Most states of one DFA (the table's entries are 16-bit). */
const MAX_DFA_STATES = 0xfff0;

/**
 * Scratch space shared by every NFA (JavaScript runs one match at a time): a state is in the set
 * being built when mark[state] === generation. Grown to the largest NFA compiled.
 */
const scratch = {
  mark: new Int32Array(0),
  a: new Int32Array(0),
  b: new Int32Array(0),
  stack: new Int32Array(0),
  generation: 0,
  /** NFA states looked at by `close` and `transition` (the work `complete` counts). */
  steps: 0,
};

function growScratch(n: number): void {
  if (scratch.mark.length >= n) return;
  scratch.mark = new Int32Array(n);
  scratch.a = new Int32Array(n);
  scratch.b = new Int32Array(n);
  scratch.stack = new Int32Array(2 * n + 2);
  scratch.generation = 0;
}

function nextGeneration(): number {
  if (scratch.generation >= 0x3fffffff) {
    scratch.mark.fill(0);
    scratch.generation = 0;
  }
  return ++scratch.generation;
}

/**
 * A compiled pattern: `matches(s)` is true when the whole of `s` matches. Shareable.
 *
 * Matching walks a DFA built lazily from the NFA (a DFA state is a set of NFA states; its
 * transitions are computed the first time a character class is met and then reused), so a match
 * usually costs one table lookup per character. The DFA cache of one NFA is bounded (`DFA_BYTES`);
 * past it the NFA is simulated: O(input length x states), whatever the pattern.
 */
export class Nfa {
  /** Character class of each ASCII code: characters of one class take the same transitions. */
  private readonly ascii: Uint8Array;
  /** Classes of non-ASCII characters that appear in the pattern's text. */
  private readonly highLiterals: Map<number, number>;
  private readonly iriClass: number;
  private readonly otherClass: number;
  private readonly classCount: number;
  private dfa: Dfa | undefined;
  /** A character of each class (what `transition` tests a class with). */
  private readonly representatives: number[] = [];
  /** Bytes the lazy DFA may grow to; unbounded while `complete` builds it. */
  private dfaLimit = DFA_BYTES;
  /** Set by `complete`: every transition is in the table, the NFA is never simulated. */
  private completed = false;

  private constructor(
    private readonly kind: Uint8Array,
    private readonly code: Uint16Array,
    private readonly out: Int32Array,
    private readonly out2: Int32Array,
    private readonly start: number,
  ) {
    const classes = new Map<string, number>();
    const classOf = (c: number, literal: boolean) => {
      const key = `${literal ? c : -1},${isUnreserved(c)},${isReserved(c)},${isHex(c)}`;
      let id = classes.get(key);
      if (id === undefined) {
        id = classes.size;
        classes.set(key, id);
        this.representatives.push(c);
      }
      return id;
    };
    const literals = new Set<number>();
    for (let s = 0; s < kind.length; s++) if (kind[s] === CHAR) literals.add(code[s] as number);
    this.ascii = new Uint8Array(128);
    for (let c = 0; c < 128; c++) this.ascii[c] = classOf(c, literals.has(c));
    this.highLiterals = new Map();
    for (const c of literals) if (c >= 128) this.highLiterals.set(c, classOf(c, true));
    this.iriClass = classOf(0xa0, false);
    this.otherClass = classOf(0x80, false);
    this.classCount = classes.size;
  }

  get size(): number {
    return this.kind.length;
  }

  /** Bytes this NFA may hold: its states, plus its DFA (complete: as built; lazy: the most it may grow to). */
  get bytes(): number {
    const dfa =
      this.completed && this.dfa !== undefined
        ? this.dfa.trans.byteLength + this.dfa.accepting.byteLength
        : DFA_BYTES;
    return this.kind.length * 11 + 256 + dfa;
  }

  /** States of the complete DFA (`complete`), else undefined. */
  get dfaStates(): number | undefined {
    return this.completed ? this.dfa?.count : undefined;
  }

  /**
   * Builds the whole DFA now: every state reachable and every transition, so that a match is then
   * one table lookup per character, never an NFA simulation. Gives up (false, and matching stays
   * lazy) past `maxStates` DFA states or `maxSteps` steps of work (NFA states visited), so the cost
   * of trying is bounded too.
   */
  complete(maxStates: number, maxSteps: number): boolean {
    if (this.completed) return true;
    const limit = Math.min(maxStates, MAX_DFA_STATES - 1);
    this.dfaLimit = Number.POSITIVE_INFINITY;
    this.dfa = this.newDfa();
    const dfa = this.dfa;
    const classes = this.classCount;
    scratch.steps = 0;
    for (let state = 0; state < dfa.sets.length; state++) {
      for (let k = 0; k < classes; k++) {
        if (dfa.trans[state * classes + k] !== UNKNOWN) continue;
        this.transition(dfa, state, k, this.representatives[k] as number);
        if (dfa.sets.length > limit || scratch.steps > maxSteps) {
          this.dfa = undefined;
          this.dfaLimit = DFA_BYTES;
          return false;
        }
      }
    }
    this.completed = true;
    dfa.count = dfa.sets.length;
    // only the table is needed from now on
    dfa.sets.length = 0;
    dfa.keys.clear();
    return true;
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
        case "subset": {
          // after[i]: the items before i are done; `sep item_j` may follow for any j >= i. Each
          // item is compiled once and shared by both ways of reaching it (first, or after sep).
          const n = p.items.length;
          if (n === 0) return next;
          let after = next;
          const starts = new Array<number>(n);
          for (let i = n - 1; i >= 0; i--) {
            const start = build(p.items[i] as Pattern, after);
            starts[i] = start;
            after = add(EPSILON, 0, build(text(p.sep), start), after);
          }
          let first = starts[n - 1] as number;
          for (let i = n - 2; i >= 0; i--) first = add(EPSILON, 0, starts[i] as number, first);
          return first;
        }
      }
    };
    const start = build(pattern, 0);
    growScratch(kind.length);
    return new Nfa(
      Uint8Array.from(kind),
      Uint16Array.from(code),
      Int32Array.from(out),
      Int32Array.from(out2),
      start,
    );
  }

  /** True when `input` from `from` on matches. Never throws; O(input length) table lookups mostly. */
  matches(input: string, from = 0): boolean {
    this.dfa ??= this.newDfa();
    const dfa = this.dfa;
    const classes = this.classCount;
    let state = 0;
    for (let i = from; i < input.length; i++) {
      const c = input.charCodeAt(i);
      const k = c < 128 ? (this.ascii[c] as number) : this.classOfHigh(c);
      let next = dfa.trans[state * classes + k] as number;
      if (next === UNKNOWN) next = this.transition(dfa, state, k, c);
      if (next === DEAD) return false;
      if (next === FULL) return this.simulate(input, from);
      state = next;
    }
    return dfa.accepting[state] === 1;
  }

  /**
   * A function matching what starts with `literal`, ends with `suffix`, and in between (from
   * `literal.length` on) matches this pattern. Once the DFA is complete, the function holds its
   * tables itself: a match touches only them and the topic (the hot path of the fan-out).
   */
  matcher(literal: string, suffix: string): (input: string) => boolean {
    const start = literal.length;
    const shortest = literal.length + suffix.length;
    const dfa = this.dfa;
    if (!this.completed || dfa === undefined) {
      return (input) =>
        input.length >= shortest &&
        input.startsWith(literal) &&
        input.endsWith(suffix) &&
        this.matches(input, start);
    }
    const { trans, accepting } = dfa;
    const ascii = this.ascii;
    const classes = this.classCount;
    const high = (c: number) => this.classOfHigh(c);
    return (input) => {
      if (input.length < shortest || !input.startsWith(literal) || !input.endsWith(suffix)) return false;
      let state = 0;
      for (let i = start; i < input.length; i++) {
        const c = input.charCodeAt(i);
        state = trans[state * classes + (c < 128 ? (ascii[c] as number) : high(c))] as number;
        if (state === DEAD) return false;
      }
      return accepting[state] === 1;
    };
  }

  private classOfHigh(c: number): number {
    return this.highLiterals.get(c) ?? (c >= 0xa0 ? this.iriClass : this.otherClass);
  }

  private newDfa(): Dfa {
    const generation = nextGeneration();
    const count = this.close(this.start, generation, scratch.a, 0);
    const set = scratch.a.slice(0, count).sort();
    const dfa: Dfa = {
      sets: [],
      keys: new Map(),
      trans: new Uint16Array(4 * this.classCount).fill(UNKNOWN),
      accepting: new Uint8Array(4),
      bytes: 0,
      count: 0,
    };
    this.addState(dfa, set);
    return dfa;
  }

  /** The DFA state after `state` on character `c` (of class `k`): computed once, then cached. */
  private transition(dfa: Dfa, state: number, k: number, c: number): number {
    const from = dfa.sets[state] as Int32Array;
    const generation = nextGeneration();
    let count = 0;
    scratch.steps += from.length;
    for (let j = 0; j < from.length; j++) {
      const s = from[j] as number;
      if (this.accepts(s, c)) count = this.close(this.out[s] as number, generation, scratch.b, count);
    }
    let next: number;
    if (count === 0) next = DEAD;
    else {
      const set = scratch.b.slice(0, count).sort();
      const key = set.join(",");
      next = dfa.keys.get(key) ?? this.addState(dfa, set, key);
    }
    if (next !== FULL) dfa.trans[state * this.classCount + k] = next;
    return next;
  }

  /** Adds a DFA state for `set`; FULL when the DFA cache is at its bound. */
  private addState(dfa: Dfa, set: Int32Array, key = set.join(",")): number {
    const id = dfa.sets.length;
    if (id >= MAX_DFA_STATES) return FULL;
    const classes = this.classCount;
    const cost = set.byteLength + key.length * 2 + 64;
    let trans = dfa.trans;
    if ((id + 1) * classes > trans.length) {
      const grown = new Uint16Array(trans.length * 2).fill(UNKNOWN);
      grown.set(trans);
      if (id > 0 && dfa.bytes - trans.byteLength + grown.byteLength + cost > this.dfaLimit) return FULL;
      dfa.bytes += grown.byteLength - trans.byteLength;
      trans = grown;
      dfa.trans = grown;
      const accepting = new Uint8Array(grown.length / classes);
      accepting.set(dfa.accepting);
      dfa.accepting = accepting;
    }
    if (id > 0 && dfa.bytes + cost > this.dfaLimit) return FULL;
    dfa.bytes += cost;
    dfa.sets.push(set);
    dfa.keys.set(key, id);
    dfa.accepting[id] = set[0] === 0 ? 1 : 0; // state 0 is ACCEPT, and sets are sorted
    return id;
  }

  /** Adds `state` and every state reachable from it by epsilon moves to `into`; returns the new count. */
  private close(state: number, generation: number, into: Int32Array, count: number): number {
    const { mark, stack } = scratch;
    const kind = this.kind;
    let top = 0;
    stack[top++] = state;
    while (top > 0) {
      const s = stack[--top] as number;
      if (s < 0 || mark[s] === generation) continue;
      mark[s] = generation;
      scratch.steps++;
      if (kind[s] === EPSILON) {
        stack[top++] = this.out2[s] as number;
        stack[top++] = this.out[s] as number;
      } else {
        into[count++] = s;
      }
    }
    return count;
  }

  /** The NFA simulation: O(input length x states). */
  private simulate(input: string, from: number): boolean {
    let current = scratch.a;
    let next = scratch.b;
    let size = this.close(this.start, nextGeneration(), current, 0);
    for (let i = from; i < input.length; i++) {
      const c = input.charCodeAt(i);
      const generation = nextGeneration();
      let nextSize = 0;
      for (let j = 0; j < size; j++) {
        const s = current[j] as number;
        if (this.accepts(s, c)) nextSize = this.close(this.out[s] as number, generation, next, nextSize);
      }
      if (nextSize === 0) return false;
      [current, next] = [next, current];
      size = nextSize;
    }
    for (let j = 0; j < size; j++) if (this.kind[current[j] as number] === ACCEPT) return true;
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
        return isHex(c);
      default:
        return false;
    }
  }
}

interface Dfa {
  /** The NFA states of each DFA state (sorted consuming states; 0 = ACCEPT). */
  readonly sets: Int32Array[];
  readonly keys: Map<string, number>;
  /** trans[state * classes + class]: the next DFA state, UNKNOWN, or DEAD. */
  trans: Uint16Array;
  accepting: Uint8Array;
  bytes: number;
  /** DFA states, once complete (`sets` is emptied then). */
  count: number;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
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
