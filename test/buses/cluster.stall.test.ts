import assert from "node:assert/strict";
import { get } from "node:http";
import { describe, it } from "node:test";
import { spawnWorkers, stopHerald } from "../helpers/process.ts";
import { RecordingClient } from "../helpers/sse-client.ts";
import { until } from "../helpers/waiters.ts";

/**
 * Issue 11, the --workers cluster bus: a worker stopped for a few seconds while the others publish
 * loses nothing (the primary's IPC channel queues its turns; it delivers them on SIGCONT).
 */

/** GET /status on a fresh connection (the answer names every worker's pid and open streams). */
function workers(url: string): Promise<{ pid: number; connections: number }[]> {
  return new Promise((resolve, reject) => {
    get(`${url}/status`, { agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () =>
        resolve((JSON.parse(text) as { perWorker: { pid: number; connections: number }[] }).perWorker),
      );
    }).on("error", reject);
  });
}

describe("--workers 2: a worker stopped (SIGSTOP) while the other publishes", () => {
  it("its streams get every event acknowledged meanwhile, once, in order; nothing is missed", async () => {
    const herald = await spawnWorkers(2);
    const streams: RecordingClient[] = [];
    let stopped: number | undefined;
    try {
      // one connection each: round robin spreads them over both workers
      for (let i = 0; i < 6; i++) {
        streams.push(new RecordingClient(`${herald.url}/events?topic=stall`, ["message", "herald.missed"]));
      }
      await Promise.all(streams.map((s) => s.opened()));
      const perWorker = await workers(herald.url);
      const victim = perWorker.find((w) => w.connections > 0);
      assert.ok(victim !== undefined && perWorker.length === 2, JSON.stringify(perWorker));
      process.kill(victim.pid, "SIGSTOP");
      stopped = victim.pid;
      // concurrent batches on their own connections: about half reach the stopped worker and wait
      let answered = 0;
      const batches = Array.from({ length: 40 }, (_, b) =>
        Array.from({ length: 10 }, (_, i) => ({ topic: "stall", data: `${b}-${i}` })),
      );
      const statuses = Promise.all(
        batches.map(async (events) => {
          const response = await fetch(`${herald.url}/publish/batch`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ events }),
          });
          await response.arrayBuffer();
          answered++;
          return response.status;
        }),
      );
      // the live worker answers once the primary stops waiting for the stopped one (2 s)
      await until(() => answered > 0, "a publish answered while a worker is stopped");
      process.kill(victim.pid, "SIGCONT");
      stopped = undefined;
      assert.ok((await statuses).every((s) => s === 200));
      for (const stream of streams) await stream.until(() => stream.events.length >= 400, 30_000);
      const order = streams[0]!.datas();
      for (const stream of streams) {
        assert.deepEqual(
          stream.events.filter((e) => e.type !== "message"),
          [],
        );
        assert.deepEqual(stream.datas(), order, "every stream: the same events in one order");
      }
      assert.equal(new Set(order).size, 400);
      for (let b = 0; b < 40; b++) {
        const mine = order.filter((d) => d.startsWith(`${b}-`));
        assert.deepEqual(
          mine,
          batches[b]!.map((e) => e.data),
        );
      }
    } finally {
      if (stopped !== undefined) process.kill(stopped, "SIGCONT");
      for (const stream of streams) stream.close();
      await stopHerald(herald);
    }
  });
});
