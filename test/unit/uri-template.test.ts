import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { selectorMatches } from "../../packages/herald/src/core/topic.ts";
import { MercureSelectors } from "../../packages/herald/src/mercure/selectors.ts";
import {
  compileTemplate,
  compileTemplateMatcher,
  TemplateError,
  TemplateTooComplex,
} from "../../packages/herald/src/mercure/uri-template.ts";
import { prng } from "../helpers/prng.ts";

const options = { maxTopicLength: 256, maxStates: 4096 };
const matches = (template: string, topic: string) => compileTemplate(template, options)(topic);

describe("URI template matching (RFC 6570, as Mercure selectors)", () => {
  const cases: [string, string, boolean][] = [
    // Level 1: simple strings take unreserved characters and %XX, never "/".
    ["https://example.com/books/{id}", "https://example.com/books/1", true],
    ["https://example.com/books/{id}", "https://example.com/books/", true],
    ["https://example.com/books/{id}", "https://example.com/books/1/2", false],
    ["https://example.com/books/{id}", "https://example.com/movies/1", false],
    ["https://example.com/books/{id}", "https://example.com/books/caf%C3%A9", true],
    ["https://example.com/books/{id}", "https://example.com/books/café", true],
    ["https://example.com/books/{id}", "https://example.com/books/a b", false],
    ["https://example.com/books/{id}", "https://example.com/books/%zz", false],
    // Level 2: reserved (+) and fragment (#) take reserved characters.
    ["https://example.com/{+path}", "https://example.com/a/b/c?d=e", true],
    ["https://example.com/x{#frag}", "https://example.com/x#a/b", true],
    ["https://example.com/x{#frag}", "https://example.com/x/a", false],
    // Level 3: several variables, label, path, path-style and query operators.
    ["https://example.com{/a,b}", "https://example.com/x/y", true],
    ["https://example.com{/a,b}", "https://example.com/x", true],
    ["https://example.com{/a,b}", "https://example.com/x/y/z", false],
    ["file{.ext}", "file.json", true],
    ["x{;a,b}", "x;a=1;b", true],
    ["x{?a,b}", "x?a=1&b=2", true],
    ["x{?a,b}", "x?b=2", true],
    ["x{?a,b}", "x?b=2&a=1", false],
    ["x{?a,b}", "x?c=1", false],
    ["x{?a}{&b}", "x?a=1&b=2", true],
    [
      "https://example.com/users/foo/{?topic}",
      "https://example.com/users/foo/?topic=https%3A%2F%2Fex.com%2F1",
      true,
    ],
    [
      "https://example.com/users/foo/{?topic}",
      "https://example.com/users/foo/?topic=https://ex.com/1",
      false,
    ],
    // Level 4: prefix and explode modifiers.
    ["x{id:3}", "xabc", true],
    ["x{id:3}", "xabcd", false],
    ["x{id:3}", "x%41bc", true],
    ["https://example.com{/path*}", "https://example.com/a/b/c", true],
    ["x{?list*}", "x?list=1&list=2", true],
    ["x{;keys*}", "x;a=1;b=2", true],
    ["x{list}", "xa,b,c", true],
    // Literals around and between expressions.
    ["/.well-known/mercure/subscriptions{/topic}{/subscriber}", "/.well-known/mercure/subscriptions", true],
    [
      "/.well-known/mercure/subscriptions{/topic}{/subscriber}",
      "/.well-known/mercure/subscriptions/https%3A%2F%2Fa%2F%7Bb%7D/urn%3Auuid%3A1",
      true,
    ],
    ["a{x}b{y}c", "a1b2c", true],
    ["a{x}b{y}c", "a1b2", false],
  ];
  for (const [template, topic, expected] of cases) {
    it(`${expected ? "matches" : "does not match"} ${topic} with ${template}`, () => {
      assert.equal(matches(template, topic), expected);
    });
  }

  it("refuses invalid templates (they are plain strings to Mercure)", () => {
    for (const bad of ["a{", "a}", "a{}", "a{=x}", "a{x y}", "a{x:0}", "a{x:10000}"]) {
      assert.throws(() => compileTemplate(bad, options), TemplateError, bad);
    }
  });

  it("stays linear on templates that make backtracking engines explode", () => {
    const many = `x${Array.from({ length: 30 }, (_, i) => `{v${i}}`).join("")}`;
    const match = compileTemplate(many, options);
    const topic = `x${"a".repeat(250)}!`;
    const start = performance.now();
    for (let i = 0; i < 20; i++) assert.equal(match(topic), false);
    // Generous bound: a backtracking matcher takes hours here; the NFA a few milliseconds.
    assert.ok(performance.now() - start < 2000);
  });

  it("refuses templates with more than 32 variables", () => {
    const many = `x${Array.from({ length: 33 }, (_, i) => `{v${i}}`).join("")}`;
    assert.throws(() => compileTemplate(many, options), TemplateTooComplex);
  });

  it("refuses templates that need too many states", () => {
    const heavy = `x${Array.from({ length: 12 }, (_, i) => `{v${i}:200}`).join("")}`;
    assert.throws(() => compileTemplate(heavy, options), TemplateTooComplex);
  });
  it("compiles an expression of n variables to a size linear in n (the issue's {+q,v0,...,v17} was ~3,000 states)", () => {
    const sizeOf = (n: number) =>
      compileTemplateMatcher(`{+${Array.from({ length: n }, (_, i) => `v${i}`).join(",")}}@@`, options).size;
    assert.ok(sizeOf(19) < 19 * 20, `19 variables: ${sizeOf(19)} states`);
    assert.ok(sizeOf(30) - sizeOf(15) < 15 * 20);
  });

  it("exposes the literal start, which is not part of the size", () => {
    const books = compileTemplateMatcher("https://example.com/books/{id}", options);
    assert.equal(books.literal, "https://example.com/books/");
    assert.ok(books.size < 20, `${books.size} states`);
    assert.equal(compileTemplateMatcher("{+x}", options).literal, "");
  });

  it("answers the same with its whole DFA built at once as with the lazy one (random templates and topics)", () => {
    const rand = prng(11);
    const ops = ["", "+", "#", ".", "/", ";", "?", "&"];
    const pieces = ["a", "b", "/", ".", ",", "=", "?", "&", ";", "#", "%", "4", "1", "é", "~", ":"];
    let positives = 0;
    for (let k = 0; k < 300; k++) {
      let template = "";
      for (let e = 0; e <= rand.int(3); e++) {
        if (rand.next() < 0.5) template += rand.pick(["a", "/", "x.", "b/", "é", "?q="]);
        const vars = Array.from(
          { length: 1 + rand.int(3) },
          () => rand.pick(["a", "b", "c"]) + rand.pick(["", "*", ":2"]),
        );
        template += `{${rand.pick(ops)}${vars.join(",")}}`;
      }
      if (rand.next() < 0.3) template += rand.pick(["@@", "/", "x"]);
      const lazy = compileTemplateMatcher(template, options);
      const whole = compileTemplateMatcher(template, { ...options, dfa: { states: 100_000, steps: 1e9 } });
      assert.ok(whole.dfaStates !== undefined);
      for (let j = 0; j < 30; j++) {
        let topic = Array.from({ length: rand.int(12) }, () => rand.pick(pieces)).join("");
        if (rand.next() < 0.3)
          topic = template.replace(/\{[^}]*\}/g, () =>
            rand.pick(["", "a", "/a", ".a", ";a=1", "?a=1", "a,b"]),
          );
        const answer = lazy.matches(topic);
        if (answer) positives++;
        assert.equal(whole.matches(topic), answer, `${template} against ${topic}`);
      }
    }
    assert.ok(positives > 100, `${positives} matches among the cases`);
  });

  it("refuses, with the whole DFA asked for, a template whose DFA does not fit", () => {
    assert.throws(
      () =>
        compileTemplateMatcher("x{a:12}/{b:12}.{c:12}", { ...options, dfa: { states: 256, steps: 200_000 } }),
      TemplateTooComplex,
    );
    const books = compileTemplateMatcher("https://example.com/books/{id}", {
      ...options,
      dfa: { states: 256, steps: 200_000 },
    });
    assert.ok((books.dfaStates ?? 0) < 10, `${books.dfaStates} states`);
  });

  it("gives the same answers once its DFA cache is full (then it simulates the NFA)", () => {
    // x{a:100}{/b:50}y needs more DFA states than the cache holds: counting up to 100 and 50
    const m = compileTemplateMatcher("x{a:100}{/b:50}y", options);
    const re = /^x[A-Za-z0-9\-._~]{0,100}(\/[A-Za-z0-9\-._~]{0,50})?y$/;
    for (let n = 0; n < 160; n++) {
      for (const topic of [
        `x${"a".repeat(n)}y`,
        `x${"a".repeat(n)}/${"b".repeat(n % 60)}y`,
        `x${"a".repeat(n)}`,
      ]) {
        assert.equal(m.matches(topic), re.test(topic), topic);
      }
    }
  });
});

describe("Mercure selectors", () => {
  const selectors = new MercureSelectors({ maxTopicLength: 256 });

  it("maps *, exact strings and templates to the core's selectors", () => {
    assert.deepEqual(selectors.parse("*"), { kind: "all" });
    assert.deepEqual(selectors.parse("https://example.com/books/1"), {
      kind: "exact",
      topic: "https://example.com/books/1",
    });
    // Herald's prefix syntax does not apply to Mercure selectors.
    assert.deepEqual(selectors.parse("orders/*"), { kind: "exact", topic: "orders/*" });
    // An invalid template is a plain string.
    assert.deepEqual(selectors.parse("a{b"), { kind: "exact", topic: "a{b" });
    const template = selectors.parse("https://example.com/books/{id}");
    assert.equal(template.kind, "match");
    assert.equal(selectorMatches(template, "https://example.com/books/1"), true);
    assert.equal(
      selectorMatches(template, "https://example.com/books/{id}"),
      true,
      "a template matches itself",
    );
    assert.equal(selectorMatches(template, "https://example.com/books/1/2"), false);
    assert.equal(selectors.parse("https://example.com/books/{id}"), template, "compiled once, cached");
    assert.equal(template.kind === "match" && template.literal, "https://example.com/books/");
  });
});
