import assert from "node:assert/strict";
import { get } from "node:http";
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

/** GET /status on a fresh connection (no keep-alive pool), so round robin picks the worker. */
function freshStatus(url: string): Promise<ClusterStatus> {
  return new Promise((resolve, reject) => {
    get(`${url}/status`, { agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve(JSON.parse(text) as ClusterStatus));
    }).on("error", reject);
  });
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

  it("leaves out a worker that does not answer within the bound, and says so in `workers`", async () => {
    const before = await status(herald.url);
    const stopped = before.perWorker[1]!.pid;
    process.kill(stopped, "SIGSTOP");
    try {
      // round robin: of two fresh connections, one reaches the running worker; the other waits
      const reading = await Promise.any([freshStatus(herald.url), freshStatus(herald.url)]);
      assert.equal(reading.workers, 1);
      assert.deepEqual(
        reading.perWorker.map((w) => w.pid),
        [before.perWorker[0]!.pid],
      );
    } finally {
      process.kill(stopped, "SIGCONT");
    }
  });
});
