import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { httpRequest, publish, RawStream } from "../helpers/herald.ts";
import { HERALD_BIN } from "../helpers/process.ts";
import { eventually } from "../helpers/waiters.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** `herald_slow_disconnects_total` of the whole cluster (any worker answers /metrics for all). */
async function slowDisconnects(url: string): Promise<number> {
  const text = (await httpRequest(`${url}/metrics`)).text;
  return Number(/^herald_slow_disconnects_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

/** `herald --workers 2` as a real child process; resolves with its URL once all workers listen. */
function startCluster(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      HERALD_BIN,
      ...["--port", "0", "--host", "127.0.0.1", "--workers", "2", "--log-level", "info"],
      ...["--allow-anonymous-publish", "true"],
      // batches of 5,000 events: the publish rate (counted in events) out of the way
      ...["--publish-rate", "1000000", "--publish-burst", "1000000"],
    ],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  return new Promise((resolve, reject) => {
    let url: string | undefined;
    let all = false;
    let text = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      text += chunk;
    });
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      text += chunk;
      for (const line of text.split("\n")) {
        if (line.includes('"Herald listening"')) url ??= (JSON.parse(line) as { url: string }).url;
        if (line.includes('"all workers listening"')) all = true;
      }
      if (url !== undefined && all) resolve({ child, url });
    });
    child.once("exit", (code) => reject(new Error(`herald exited with ${code}: ${text}`)));
  });
}

describe("--workers 2 (node:cluster, memory bus owned by the primary)", () => {
  let child: ChildProcess;
  let url: string;
  before(async () => {
    ({ child, url } = await startCluster());
  });
  after(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });

  const posOf = (id: string) => Number(id.slice(id.lastIndexOf("-") + 1));

  it("delivers every event to every subscriber on every worker once, in one order, with one history", async () => {
    const streams = Array.from({ length: 6 }, () => new RawStream(`${url}/events?topic=news`));
    await Promise.all(streams.map((s) => s.opened()));

    const ids: string[] = [];
    const queued: number[] = [];
    for (let round = 0; round < 5; round++) {
      const answers = await Promise.all(
        Array.from({ length: 4 }, (_, i) => publish(url, { topic: "news", data: `${round}/${i}` })),
      );
      for (const a of answers) {
        assert.equal(a.status, 200, a.text);
        const body = a.body as { id: string; queued: number };
        ids.push(body.id);
        queued.push(body.queued);
      }
      const batch = await httpRequest(`${url}/publish/batch`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          events: [
            { topic: "news", data: `b${round}` },
            { topic: "other", data: "x" },
          ],
        }),
      });
      assert.equal(batch.status, 200, batch.text);
      ids.push((batch.body as { results: { id: string }[] }).results[0]!.id);
    }
    ids.sort((a, b) => posOf(a) - posOf(b));
    assert.equal(new Set(ids).size, ids.length, "ids are unique across workers");
    for (const stream of streams) {
      await stream.until(() => stream.ids().length >= ids.length);
      assert.deepEqual(stream.ids(), ids);
    }
    const status = (await httpRequest(`${url}/status`)).body as { perWorker: { connections: number }[] };
    assert.ok(
      status.perWorker.length === 2 && status.perWorker.every((w) => w.connections > 0),
      `the streams are spread over both workers: ${JSON.stringify(status.perWorker)}`,
    );
    // each answer counts the subscribers of the worker that took the publish (it does not wait for
    // the others: docs/performance.md), so it is one worker's share of the streams, not their sum
    const shares = new Set(status.perWorker.map((w) => w.connections));
    assert.deepEqual(
      queued.filter((q) => !shares.has(q)),
      [],
      `queued counts the publishing worker's subscribers (${[...shares].join(" or ")}): ${queued.join(",")}`,
    );

    // resume through whichever worker takes the new connection: the same history
    const resumed = new RawStream(`${url}/events?topic=news`, { "last-event-id": ids[4]! });
    await resumed.until(() => resumed.ids().length >= ids.length - 5);
    assert.deepEqual(resumed.ids(), ids.slice(5));
    for (const stream of [...streams, resumed]) stream.close();
  });

  it("a resume from a publisher id of another topic replays the stream's topics after it, on every worker", async () => {
    // docs/concepts.md "Ids": a held id the subscriber may read is a resume point whatever its topic
    assert.equal((await publish(url, { topic: "sports", data: "goal", id: "cluster-goal-1" })).status, 200);
    assert.equal((await publish(url, { topic: "weather", data: "while away" })).status, 200);
    assert.equal((await publish(url, { topic: "sports", data: "not followed" })).status, 200);
    // round robin: four connections reach both workers
    const streams = Array.from(
      { length: 4 },
      () => new RawStream(`${url}/events?topic=weather`, { "last-event-id": "cluster-goal-1" }),
    );
    await Promise.all(streams.map((s) => s.opened()));
    assert.equal((await publish(url, { topic: "weather", data: "live fence" })).status, 200);
    for (const stream of streams) {
      await stream.until(() => stream.text.includes("data: live fence"));
      assert.match(stream.text, /data: while away/, stream.text);
      assert.doesNotMatch(stream.text, /herald\.missed|not followed/, stream.text);
      stream.close();
    }
  });

  it("answers every publish while batches of thousands of events pass through the same workers", async () => {
    const batch = (round: number) =>
      httpRequest(`${url}/publish/batch`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          events: Array.from({ length: 5000 }, (_, i) => ({ topic: "bulk", data: `${round}.${i}` })),
        }),
      });
    const batches = Promise.all(
      [0, 1].map(async (chain) => {
        const statuses: number[] = [];
        for (let round = 0; round < 4; round++) statuses.push((await batch(chain * 10 + round)).status);
        return statuses;
      }),
    );
    const singles = Promise.all(
      Array.from({ length: 8 }, async (_, chain) => {
        const statuses: number[] = [];
        for (let i = 0; i < 40; i++)
          statuses.push((await publish(url, { topic: "t", data: `${chain}.${i}` })).status);
        return statuses;
      }),
    );
    const [batchStatuses, singleStatuses] = await Promise.all([batches, singles]);
    assert.deepEqual(batchStatuses.flat(), Array(8).fill(200));
    assert.deepEqual(
      singleStatuses.flat().filter((status) => status !== 200),
      [],
      "every single publish answered 200 (its answer brings the event when needed)",
    );
  });

  it("a burst of concurrent batches through both workers: every event once, in one order; a reader that does not read is cut off", async () => {
    const streams = Array.from({ length: 4 }, () => new RawStream(`${url}/events?topic=burst`));
    const stalled = new RawStream(`${url}/events?topic=stall`, {}, true);
    try {
      await Promise.all(streams.map((s) => s.opened()));
      await stalled.until(() => stalled.status === 200);
      const slowBefore = await slowDisconnects(url);
      // 40 batches, all at once on their own connections, with single publishes between them;
      // each batch: 10 small events for the readers, 10 of ~25 KB for the stalled one (10 MB in
      // all: past its 1 MiB buffer and the kernel's)
      const pad = "x".repeat(25_000);
      const batches = Array.from({ length: 40 }, (_, b) =>
        Array.from({ length: 20 }, (_, i) =>
          i % 2 === 0 ? { topic: "burst", data: `${b}.${i}` } : { topic: "stall", data: `${b}.${i} ${pad}` },
        ),
      );
      const batchIds = Promise.all(
        batches.map(async (events) => {
          const answer = await httpRequest(`${url}/publish/batch`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ events }),
          });
          assert.equal(answer.status, 200, answer.text);
          return (answer.body as { results: { id: string }[] }).results.map((r) => r.id);
        }),
      );
      const singleIds = Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const answer = await publish(url, { topic: "burst", data: `s.${i}` });
          assert.equal(answer.status, 200, answer.text);
          return (answer.body as { id: string }).id;
        }),
      );
      const answered = [...(await batchIds).flat(), ...(await singleIds)];
      assert.equal(new Set(answered).size, 840, "840 distinct ids answered");
      const toReaders = [
        ...(await batchIds).flatMap((ids) => ids.filter((_, i) => i % 2 === 0)),
        ...(await singleIds),
      ];
      const expected = toReaders.sort((a, b) => posOf(a) - posOf(b));
      for (const stream of streams) {
        await stream.until(() => stream.ids().length >= expected.length, 60_000);
        assert.deepEqual(stream.ids(), expected, "every event once, in log order, on every stream");
      }
      // each batch's events are consecutive in the log, in the order of the batch
      for (const ids of await batchIds) {
        const first = posOf(ids[0]!);
        assert.deepEqual(
          ids.map(posOf),
          ids.map((_, i) => first + i),
        );
      }
      await eventually(
        async () => (await slowDisconnects(url)) === slowBefore + 1,
        "the reader that does not read is cut off as slow",
        30_000,
      );
    } finally {
      for (const stream of [...streams, stalled]) stream.close();
    }
  });

  it("stops cleanly on SIGTERM (primary and workers)", async () => {
    const code = await new Promise<number | null>((resolve) => {
      child.once("exit", (c) => resolve(c));
      child.kill("SIGTERM");
    });
    assert.equal(code, 0);
  });
});
