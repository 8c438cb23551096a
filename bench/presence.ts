/**
 * The cost of presence (issue 16: "Measure its cost in the bench"): the same load on a server
 * with presence on for the subscribed topic (`--presence bench`) and on one without it, runs
 * alternating (off, on, on, off, ...) so drift on a shared machine falls on both:
 * - delivery: `subs` anonymous subscribers of `bench` held by the load generators, 25 events of
 *   ~200 B at 25/s: server CPU µs per delivery (presence is not on the delivery path: expect 1x);
 * - churn: `churn` streams of `bench`, each with its own token `sub` (so each is a join and a
 *   leave, published on `$presence/bench`), opened `CONCURRENCY` at a time from this process and
 *   closed once open: server CPU µs per connect+disconnect (JWT verification included, on and off).
 * Rows: one per run and side (`target` "presence off" / "presence on"), then one "on / off" row
 * per pair with the ratios.
 */
import { request } from "node:http";
import { mintHs256 } from "../packages/herald/src/auth/index.ts";
import { BENCH_JWT_SECRET, type ServerHandle, sleep, startServer } from "./harness.ts";
import { nextSeq, paced, TOPIC, withSubscribers } from "./load.ts";
import type { Options, Row } from "./scenarios.ts";

const SUBSCRIBERS = 5_000;
const CHURN = 2_000;
const CONCURRENCY = 32;

export async function runPresence(o: Options): Promise<Row[]> {
  const tokens = await Promise.all(
    Array.from({ length: CHURN }, (_, i) => mintHs256(BENCH_JWT_SECRET, {}, { subject: `bench-user-${i}` })),
  );
  const rows: Row[] = [];
  for (let r = 0; r < o.runs; r++) {
    const pair: Record<string, Row> = {};
    for (const on of r % 2 === 0 ? [false, true] : [true, false]) {
      const args = ["--workers", "1", ...(on ? ["--presence", TOPIC] : [])];
      const row = await withSubscribers(
        () => startServer(args),
        SUBSCRIBERS,
        async (server, pool) => {
          const delivery = await paced(pool, server, SUBSCRIBERS, 25, 25, o.size, nextSeq(25));
          const churn = await measureChurn(server, tokens);
          return {
            target: on ? "presence on" : "presence off",
            subscribers: SUBSCRIBERS,
            deliveries: delivery.deliveries as number,
            lost: delivery.lost as number,
            "server µs/delivery": delivery["server µs/delivery"] as number,
            "p99 ms": delivery["p99 ms"] as number,
            "server µs/connect+disconnect": churn,
          };
        },
      );
      pair[row.target as string] = row;
      rows.push(row);
    }
    const on = pair["presence on"] as Row;
    const off = pair["presence off"] as Row;
    const ratio = (column: string) => (on[column] as number) / Math.max(1e-9, off[column] as number);
    rows.push({
      target: "presence on / off",
      "server µs/delivery, on/off": ratio("server µs/delivery"),
      "server µs/connect+disconnect, on/off": ratio("server µs/connect+disconnect"),
    });
  }
  return rows;
}

/** Opens and closes one stream per token; the server's CPU per stream, its end included. */
async function measureChurn(server: ServerHandle, tokens: readonly string[]): Promise<number> {
  await sleep(500); // the delivery phase's tail is not counted here
  const before = server.cpuMs();
  let next = 0;
  const worker = async () => {
    while (next < tokens.length) await openAndClose(server, tokens[next++] as string);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await sleep(500); // the ends, and presence's leaves, are handled
  return ((server.cpuMs() - before) * 1000) / tokens.length;
}

function openAndClose(server: ServerHandle, token: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}/events?topic=${TOPIC}`,
      { agent: false, headers: { accept: "text/event-stream", authorization: `Bearer ${token}` } },
      (res) => {
        if (res.statusCode !== 200) {
          req.destroy();
          reject(new Error(`a churn stream was answered ${res.statusCode}`));
          return;
        }
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (chunk.includes(server.opened)) {
            req.destroy();
            resolve();
          }
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}
