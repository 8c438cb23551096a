import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { type RedisServer, startRedis } from "../helpers/brokers.ts";
import { type HeraldProcess, spawnHerald, spawnWorkers, stopHerald } from "../helpers/process.ts";
import { SECRET } from "../mercure/helpers.ts";
import { ISSUER } from "../mercure/v1-helpers.ts";

/**
 * Promise (docs/mercure.md, "Settings": `HERALD_MAX_CONNECTIONS_PER_IP` ... "Mercure streams count
 * in Herald's limits"; "Reconnection": `EventSource` reconnects and resumes with `Last-Event-ID`;
 * docs/limits.md: 429 over the open streams of one client IP, "close some"). A stream the client
 * closed is no longer open: it frees its slot, leaves the subscriptions API, and (spec
 * "Subscription Events") its `active: false` event is published "every time a subscription is ...
 * terminated".
 *
 * Found (2026-12-03), with `--workers 2`: a Mercure stream that resumes (`last_event_id`, or the
 * `Last-Event-ID` an `EventSource` sends on every reconnection) does not notice that its client
 * left: the server's socket stays in CLOSE-WAIT, the stream stays counted (`/status`
 * `connections`), listed by the subscriptions API and without its `active: false` event, until the
 * next heartbeat write fails (MERCURE_HEARTBEAT, 40 s by default). About half the resumed streams
 * leak so; a client that opens and closes resuming streams one at a time (a page reloading, an
 * EventSource reconnecting) gets 429 after a few, though it never holds more than one open. One
 * process on the memory bus closes them at once; one process on the Redis bus (whose history is
 * read asynchronously) leaks every resumed stream (10 of 10 measured). Herald's own `GET /events`
 * with `Last-Event-ID` does not leak (its head does not wait for the resume outcome).
 *
 * Likely cause: http/sse/connection.ts calls releaseParserSoon(res) when the stream object is made,
 * but with workers the head of a resuming stream waits for the history (open-stream.ts
 * headWaitsForResume + onResume), so at setImmediate `res.headersSent` is false and
 * http/parser-release.ts releaseParser gives up for good; node:http (half-open allowed) then only
 * marks the response as the last on the client's FIN, and nothing ends the stream.
 */
const ENV = {
  MERCURE_JWT_KEY: SECRET,
  MERCURE_ISSUER: ISSUER,
  MERCURE_ANONYMOUS: "true",
  HERALD_MAX_CONNECTIONS_PER_IP: "4",
};

let redis: RedisServer | undefined;
after(() => redis?.stop());

for (const [name, start] of [
  ["--workers 2, memory bus", () => spawnWorkers(2, ENV)],
  [
    "one process, Redis bus",
    async () => {
      redis = await startRedis();
      return spawnHerald([], { ...ENV, HERALD_BUS: `${redis.url}/0` });
    },
  ],
] as const) {
  describe(`Mercure (${name}): a resumed stream the client closed is closed`, () => {
    let herald: HeraldProcess;
    before(async () => {
      herald = await start();
    });
    after(() => stopHerald(herald));

    /** Opens a resuming stream, waits for its first bytes, closes it; answers the status. */
    const openAndClose = (query: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = http.get(`${herald.url}/.well-known/mercure?${query}`, { agent: false }, (res) => {
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            res.resume();
            res.on("end", () => resolve(status));
            return;
          }
          res.once("data", () => {
            req.destroy(); // the client leaves, as a closed tab or an EventSource reconnecting does
            resolve(status);
          });
        });
        req.on("error", (error) => {
          if (!req.destroyed) reject(error);
        });
      });

    it("frees the slot of each closed resuming stream: one at a time never meets the per-IP limit", async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        statuses.push(
          await openAndClose(
            `match=${encodeURIComponent(`https://example.com/r/${i}`)}&last_event_id=earliest`,
          ),
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.deepEqual(
        statuses,
        statuses.map(() => 200),
        `statuses of 12 streams opened and closed one at a time (limit 4 per IP): ${statuses.join(",")}`,
      );
    });

    it("counts no stream once its client left (/status connections)", async () => {
      for (let i = 0; i < 6; i++) {
        await openAndClose(
          `match=${encodeURIComponent(`https://example.com/s/${i}`)}&last_event_id=no-such-id`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const status = (await (await fetch(`${herald.url}/status`)).json()) as { connections: number };
      assert.equal(status.connections, 0, "streams still counted as open after their clients closed");
    });

    it("ends a resuming stream whose client half-closed before its head went out (FIN right after the request)", async () => {
      const { port } = new URL(herald.url);
      // one after the other, over the per-IP limit (4) in all: each slot must come back
      for (let i = 0; i < 6; i++) {
        const socket = net.connect(Number(port), "127.0.0.1");
        let text = "";
        socket.on("data", (chunk: Buffer) => {
          text += chunk.toString();
        });
        const closed = new Promise<string>((resolve) => socket.on("close", () => resolve(text)));
        const query = `match=${encodeURIComponent(`https://example.com/f/${i}`)}&last_event_id=earliest`;
        // the request, then the client's FIN at once, as `printf ... | nc -q` sends it
        socket.end(`GET /.well-known/mercure?${query} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
        // closed by the hub (not left waiting for a heartbeat), never with an error answer: the
        // stream ends with its client, having written nothing or its head
        const answer = await closed;
        assert.match(answer, /^$|^HTTP\/1\.1 200 /, answer);
      }
      const status = (await (await fetch(`${herald.url}/status`)).json()) as { connections: number };
      assert.equal(status.connections, 0, "streams still counted as open after their clients half-closed");
    });
  });
}
