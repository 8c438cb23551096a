// Mercure 1.0 URL Pattern costs: Herald's matcher (urlpattern-polyfill to parse, re2js to match)
// against urlpattern-polyfill's own RegExp matching, on ordinary and hostile patterns.
// Usage: node --import tsx bench/urlpattern.ts
// (the polyfill's hostile cases are run once each, on short topics: they take seconds)
import { URLPattern } from "urlpattern-polyfill/urlpattern";
import { compileUrlPattern } from "../packages/herald/src/mercure/v1/urlpattern.ts";

const BASE = "https://localhost/.well-known/mercure";
const LIMITS = { maxLength: 256, maxProgram: 256 };

function perOp(label: string, n: number, run: () => void): void {
  for (let i = 0; i < n / 10; i++) run();
  const started = performance.now();
  for (let i = 0; i < n; i++) run();
  const us = ((performance.now() - started) * 1000) / n;
  process.stdout.write(`${label}: ${us < 10 ? us.toFixed(2) : Math.round(us)} µs\n`);
}

function once(label: string, run: () => unknown): void {
  const started = performance.now();
  const answer = run();
  process.stdout.write(`${label}: ${(performance.now() - started).toFixed(1)} ms (${String(answer)})\n`);
}

const books = "https://example.com/books/:id";
perOp(`compile ${books}`, 2_000, () => compileUrlPattern(books, BASE, LIMITS));
const match = compileUrlPattern(books, BASE, LIMITS);
let n = 0;
perOp("match https://example.com/books/<n> (yes)", 200_000, () =>
  match.test(`https://example.com/books/${n++}`),
);
perOp("match https://example.com/movies/<n> (no)", 200_000, () =>
  match.test(`https://example.com/movies/${n++}`),
);
perOp("match https://other.example/books/<n> (no, host)", 200_000, () =>
  match.test(`https://other.example/books/${n++}`),
);
const shared = compileUrlPattern("https://example.com/users/:user/books/:id", BASE, LIMITS);
perOp("one topic against 1,000 patterns, same host (the parse of the topic is shared)", 200, () => {
  for (let i = 0; i < 1000; i++) shared.test("https://example.com/users/alice/books/1");
});

const hostile: [string, string][] = [
  ["https://example.com/:x((?:a+)+b)", `https://example.com/${"a".repeat(26)}`],
  ["https://example.com/*-*-*-*x", `https://example.com/${"-".repeat(200)}`],
];
for (const [pattern, topic] of hostile) {
  const mine = compileUrlPattern(pattern, BASE, LIMITS);
  const long = `${topic}${"a".repeat(Math.max(0, 240 - topic.length))}`;
  perOp(`Herald ${pattern} against ${topic.length} chars`, 200, () => mine.test(topic));
  perOp(`Herald ${pattern} against ${long.length} chars`, 200, () => mine.test(long));
  const polyfill = new URLPattern(pattern, BASE);
  once(`urlpattern-polyfill (RegExp) ${pattern} against ${topic.length} chars`, () =>
    polyfill.test(topic, BASE),
  );
}
const worst = "https://example.com/:x((?:[a-z]{40}|[0-9]{40}|-{40}){2})";
once(`compile ${worst} (near the size limit)`, () => compileUrlPattern(worst, BASE, LIMITS).size);
const near = compileUrlPattern(worst, BASE, LIMITS);
perOp(`match it against 240 chars`, 200, () => near.test(`https://example.com/${"a".repeat(220)}`));
