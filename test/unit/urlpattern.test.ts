import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { URLPattern } from "urlpattern-polyfill/urlpattern";
import {
  compileUrlPattern,
  estimateProgram,
  UrlPatternError,
  UrlPatternTooComplex,
} from "../../packages/herald/src/mercure/v1/urlpattern.ts";
import { prng } from "../helpers/prng.ts";

const BASE = "https://localhost/.well-known/mercure";
const LIMITS = { maxLength: 256, maxProgram: 256 };
const matches = (pattern: string, topic: string) => compileUrlPattern(pattern, BASE, LIMITS).test(topic);

describe("Mercure 1.0 URL patterns", () => {
  it("match as the URL Pattern standard says (the spec's and the conformance suite's examples)", () => {
    assert.equal(matches("https://example.net/foo/:random", "https://example.net/foo/0af3"), true);
    assert.equal(matches("https://example.net/bar/:var", "https://example.net/foo/will-not-match"), false);
    assert.equal(matches("https://example.com/books/:id", "https://example.com/books/1/reviews"), false);
    assert.equal(matches("https://example.com/books/:id(\\d+)", "https://example.com/books/12"), true);
    assert.equal(matches("https://example.com/books/:id(\\d+)", "https://example.com/books/1a"), false);
    // relative patterns and topics are resolved against the hub's URL
    const events = "/.well-known/mercure/subscriptions/:type/:match/:subscriber";
    assert.equal(matches(events, "/.well-known/mercure/subscriptions/exact/a%2Fb/urn%3Auuid%3A1"), true);
    assert.equal(matches(events, "https://localhost/.well-known/mercure/subscriptions/exact/a/b"), true);
    assert.equal(matches(events, "https://elsewhere/.well-known/mercure/subscriptions/exact/a/b"), false);
    // hosts are canonicalized (case, default port); paths are case-sensitive
    assert.equal(matches("https://EXAMPLE.com/books/:id", "https://example.COM:443/books/1"), true);
    assert.equal(matches("https://example.com/Books/:id", "https://example.com/books/1"), false);
    // components the pattern does not give are wildcards
    assert.equal(matches("https://example.com/books/:id", "https://example.com/books/1?x=y#z"), true);
    assert.equal(matches("https://*.example.com/*", "https://a.b.example.com/x"), true);
    assert.equal(matches("https://example.com/:id", "https://example.com/caf%C3%A9"), true);
  });

  it("refuses what is not a URL pattern, and custom regexps RE2 cannot run in linear time", () => {
    for (const bad of ["https://example.com/{", "not a pattern :", "https://example.com/:x(", "/:x((a))"]) {
      assert.throws(() => compileUrlPattern(bad, BASE, LIMITS), UrlPatternError, bad);
    }
    for (const bad of ["https://example.com/:x(\\1)", "https://example.com/:x((?=a)a)"]) {
      assert.throws(() => compileUrlPattern(bad, BASE, LIMITS), /linear time/, bad);
    }
  });

  it("refuses patterns over the size limits before compiling them", () => {
    assert.throws(
      () => compileUrlPattern(`https://example.com/${"a".repeat(300)}`, BASE, LIMITS),
      UrlPatternTooComplex,
    );
    assert.throws(
      () => compileUrlPattern("https://example.com/:x((?:(?:a{1000}){1000}){30})", BASE, LIMITS),
      UrlPatternError,
    );
    assert.throws(() => compileUrlPattern("/:x((?:[a-z]{60}){5})", BASE, LIMITS), UrlPatternTooComplex);
    assert.ok(estimateProgram("^(?:(?:a{30}){30})$") >= 900);
    assert.ok(estimateProgram("^\\/books\\/([^\\/]+?)$") < 30);
  });

  it("matches catastrophic-backtracking patterns in linear time (RE2), with the right answer", () => {
    // JavaScript's RegExp (urlpattern-polyfill, Node 24's URLPattern) takes seconds on these.
    const long = "a".repeat(240);
    assert.equal(matches("https://example.com/:x((?:a+)+b)", `https://example.com/${long}`), false);
    assert.equal(matches("https://example.com/:x((?:a+)+b)", `https://example.com/${long}b`), true);
    assert.equal(matches("https://example.com/*-*-*-*-*x", `https://example.com/${"-".repeat(240)}`), false);
    assert.equal(matches("https://example.com/:a:b:c:d:e:f/x", `https://example.com/${long}`), false);
  });

  const SEED = Number(process.env.HERALD_FUZZ_SEED ?? 11);
  it(`answers as urlpattern-polyfill on random patterns and topics, and only ever throws UrlPatternError (seed ${SEED})`, () => {
    const rand = prng(SEED);
    const pieces = [
      "/",
      "a",
      "b",
      "-",
      ".",
      ":id",
      ":n",
      "*",
      "?",
      "+",
      "{",
      "}",
      "(\\d+)",
      "([a-b]+)",
      "\\:",
      "%2F",
      "é",
      "x",
    ];
    const prefixes = ["https://example.com", "https://*.example.com", "http{s}?://example.com", "", "urn:"];
    const topicPieces = ["/", "a", "b", "-", ".", "1", "22", "x", "%2F", "é", "?q=1", "#h"];
    const hosts = ["https://example.com", "https://a.example.com", "http://example.com", "", "urn:"];
    let compared = 0;
    for (let i = 0; i < 600; i++) {
      const pattern =
        rand.pick(prefixes) + Array.from({ length: 1 + rand.int(8) }, () => rand.pick(pieces)).join("");
      let compiled: ReturnType<typeof compileUrlPattern> | undefined;
      try {
        compiled = compileUrlPattern(pattern, BASE, LIMITS);
      } catch (error) {
        assert.ok(error instanceof UrlPatternError, `${pattern}: ${(error as Error).stack}`);
      }
      let reference: URLPattern | undefined;
      try {
        reference = new URLPattern(pattern, BASE);
      } catch {
        reference = undefined;
      }
      assert.equal(compiled !== undefined, reference !== undefined, `validity of ${JSON.stringify(pattern)}`);
      if (compiled === undefined || reference === undefined) continue;
      for (let j = 0; j < 8; j++) {
        const topic =
          rand.pick(hosts) + Array.from({ length: rand.int(8) }, () => rand.pick(topicPieces)).join("");
        assert.equal(
          compiled.test(topic),
          reference.test(topic, BASE),
          `${JSON.stringify(pattern)} against ${JSON.stringify(topic)}`,
        );
        compared++;
      }
    }
    assert.ok(compared > 1000, `only ${compared} comparisons`);
  });
});
