import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { httpRequest, publish, RawStream } from "../helpers/herald.ts";
import { type HeraldProcess, spawnHerald } from "../helpers/process.ts";

interface ClusterStatus {
  connections: number;
  published: number;
  delivered: number;
  workers: number;
  perWorker: { pid: number; connections: number }[];
}

const status = async (url: string) => (await httpRequest(`${url}/status`)).body as ClusterStatus;

/** The value of one sample line of the Prometheus text, e.g. `herald_connections`. */
function sample(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  assert.ok(line !== undefined, `no sample ${name} in /metrics:\n${text}`);
  return Number(line.slice(name.length + 1));
}

describe("--workers 2: GET /status and GET /metrics answer for the whole cluster", () => {
  let herald: HeraldProcess;
  const streams: RawStream[] = [];
  before(async () => {
    herald = await spawnHerald(["--workers", "2"]);
    // spawnHerald resolves when the first worker listens; wait for the second one to answer too
    for (let i = 0; i < 50 && (await status(herald.url)).workers !== 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  after(async () => {
    for (const s of streams) s.close();
    herald.child.kill("SIGTERM");
    await herald.exited;
  });

  it("sums the connections of both workers, whichever worker answers", async () => {
    const N = 6;
    for (let i = 0; i < N; i++) streams.push(new RawStream(`${herald.url}/events?topic=figs`));
    await Promise.all(streams.map((s) => s.opened()));
    const answered = await publish(herald.url, { topic: "figs", data: "x" });
    assert.equal(answered.status, 200, answered.text);

    const readings = await Promise.all(Array.from({ length: 6 }, () => status(herald.url)));
    for (const reading of readings) {
      assert.equal(reading.workers, 2);
      assert.equal(reading.connections, N);
      assert.equal(reading.perWorker.length, 2);
      // round robin spreads the streams: both workers hold some
      assert.ok(
        reading.perWorker.every((w) => w.connections > 0),
        JSON.stringify(reading.perWorker),
      );
      // every worker tails the one log: the event counts once, not once per worker
      assert.equal(reading.published, 1);
    }

    for (let i = 0; i < 3; i++) {
      const metrics = await httpRequest(`${herald.url}/metrics`);
      assert.equal(metrics.status, 200);
      assert.equal(sample(metrics.text, "herald_connections"), N);
      assert.equal(sample(metrics.text, "herald_cluster_workers"), 2);
      assert.equal(sample(metrics.text, "herald_events_published_total"), 1);
    }
  });
});
