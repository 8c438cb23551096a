/**
 * mulberry32: a small seeded PRNG for the fuzz tests, so a failing run can be replayed with
 * HERALD_FUZZ_SEED. The same seed gives the same sequence of every helper's results.
 */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  /** Printable ASCII mixed with bytes 0x80-0xff: what a header may carry, and mostly invalid UTF-8. */
  const brokenUtf8 = (n: number) =>
    Buffer.from(Array.from({ length: n }, () => (next() < 0.5 ? 0x80 + int(128) : 0x21 + int(94)))).toString(
      "latin1",
    );
  /** Random bytes percent-encoded: valid in a URL, broken UTF-8 once decoded. */
  const percent = (n: number) => [...bytes(n)].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
  /** Template-ish text: braces, operators, modifiers, commas, in random order. */
  const templateish = (n: number) =>
    Array.from({ length: n }, () =>
      pick(["{", "}", "+", "#", ".", "/", ";", "?", "&", "*", ":9", ",", "a", "%41", "=", "|"]),
    ).join("");
  return { next, int, pick, bytes, brokenUtf8, percent, templateish };
}
