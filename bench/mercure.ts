// Mercure figures: URI-template compile and match costs, and fan-out through /.well-known/mercure
// to subscribers with template selectors (one process, loopback).
// Usage: node --import tsx bench/mercure.ts [subscribers=500] [events=100] [selector=template|exact]
// (clients and hub share this process: the fan-out figure is end to end on one core)
import { request } from "node:http";
import { mintHs256 } from "../packages/herald/src/auth/index.ts";
import { defaultsWith } from "../packages/herald/src/config/settings.ts";
import { startHerald } from "../packages/herald/src/herald.ts";
import { compileTemplate } from "../packages/herald/src/mercure/uri-template.ts";
import { createLogger } from "../packages/herald/src/ops/logger.ts";

const options = { maxTopicLength: 256, maxStates: 4096 };

function perOp(label: string, n: number, run: () => void): void {
  for (let i = 0; i < n / 10; i++) run();
  const started = performance.now();
  for (let i = 0; i < n; i++) run();
  const us = ((performance.now() - started) * 1000) / n;
  process.stdout.write(`${label}: ${us < 10 ? us.toFixed(2) : Math.round(us)} µs\n`);
}

const books = "https://example.com/books/{id}";
perOp(`compile ${books}`, 2_000, () => compileTemplate(books, options));
const match = compileTemplate(books, options);
perOp("match https://example.com/books/12345 (yes)", 200_000, () => match("https://example.com/books/12345"));
perOp("match https://example.com/movies/12345 (no, early)", 200_000, () =>
  match("https://example.com/movies/12345"),
);
const query = compileTemplate("https://example.com/users/alice/{?topic}", options);
const long = `https://example.com/users/alice/?topic=${encodeURIComponent("https://example.com/books/1".repeat(6))}`;
perOp(`match {?topic} against ${long.length} chars (yes)`, 50_000, () => query(long));
const adversarial = `x${Array.from({ length: 30 }, (_, i) => `{v${i}}`).join("")}`;
perOp("compile 30 adjacent variables", 200, () => compileTemplate(adversarial, options));
const slow = compileTemplate(adversarial, options);
const topic = `x${"a".repeat(250)}!`;
perOp("match 30 adjacent variables against 252 chars (no)", 200, () => slow(topic));

// Fan-out: N Mercure subscribers of a template, M updates published with form posts.
const subscribers = Number(process.argv[2] ?? 500);
const events = Number(process.argv[3] ?? 100);
const exact = process.argv[4] === "exact";
const secret = "bench-secret-bench-secret-bench-secret";
const herald = await startHerald(
  defaultsWith({
    port: 0,
    host: "127.0.0.1",
    logLevel: "silent",
    mercureJwtKey: secret,
    mercureAnonymous: true,
    mercureProtocolCompatibility: 8, // URI templates and the mercure claim are 0.x
    maxConnectionsPerIp: subscribers + 10,
    publishRate: 100_000,
    publishBurst: 100_000,
  }),
  { log: createLogger("silent") },
);
let received = 0;
let done: () => void = () => {};
const allReceived = new Promise<void>((resolve) => {
  done = resolve;
});
const streams: ReturnType<typeof request>[] = [];
await Promise.all(
  Array.from(
    { length: subscribers },
    () =>
      new Promise<void>((resolve) => {
        const req = request(
          `${herald.url}/.well-known/mercure?topic=${encodeURIComponent(exact ? "https://example.com/books/all" : books)}`,
          { agent: false },
          (res) => {
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => {
              received += chunk.split("\ndata: ").length - 1;
              if (received === subscribers * events) done();
            });
            resolve();
          },
        );
        req.end();
        streams.push(req);
      }),
  ),
);
const token = await mintHs256(secret, { mercure: { publish: ["*"] } });
const started = performance.now();
for (let i = 0; i < events; i++) {
  const response = await fetch(`${herald.url}/.well-known/mercure`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/x-www-form-urlencoded" },
    body: `topic=${encodeURIComponent(`https://example.com/books/${i}`)}&topic=${encodeURIComponent("https://example.com/books/all")}&data=${i}`,
  });
  await response.text();
}
const published = performance.now() - started;
await allReceived;
const total = performance.now() - started;
process.stdout.write(
  `fan-out: ${subscribers} ${exact ? "exact-topic" : "template"} subscribers x ${events} updates: published in ${Math.round(published)} ms, ` +
    `all ${subscribers * events} deliveries in ${Math.round(total)} ms (${Math.round((subscribers * events) / (total / 1000))} deliveries/s)\n`,
);
for (const req of streams) req.destroy();
await herald.close();
