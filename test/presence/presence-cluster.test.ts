import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { RABBIT_BIN, REDIS_BIN, skipReason, startRabbit, startRedis } from "../helpers/brokers.ts";
import { type HeraldNode, startNode } from "../helpers/cluster.ts";
import { httpRequest, RawStream } from "../helpers/herald.ts";
import { type HeraldProcess, spawnWorkers, stopHerald } from "../helpers/process.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";
import { eventually } from "../helpers/waiters.ts";

interface PresenceAnswer {
  topic: string;
  count: number;
  subscribers: string[];
}

const PRESENCE = ["--jwt-secret", TEST_SECRET, "--presence", "room/*", "--presence-heartbeat", "300ms"];

async function presenceOf(url: string, topic: string): Promise<PresenceAnswer> {
  const token = await heraldToken({ subscribe: ["room/*"] });
  const answer = await httpRequest(`${url}/presence?topic=${encodeURIComponent(topic)}`, {
    headers: bearer(token),
  });
  assert.equal(answer.status, 200, answer.text);
  return answer.body as PresenceAnswer;
}

async function subscribe(streams: RawStream[], url: string, topic: string, sub: string): Promise<void> {
  const stream = new RawStream(
    `${url}/events?topic=${topic}`,
    bearer(await heraldToken({}, { subject: sub })),
  );
  streams.push(stream);
  await stream.opened();
}

const BROKERS = [
  { name: "redis-server", skip: skipReason(REDIS_BIN, "redis-server"), start: () => startRedis() },
  { name: "rabbitmq-server", skip: skipReason(RABBIT_BIN, "rabbitmq-server"), start: () => startRabbit() },
];

for (const broker of BROKERS)
  describe(`presence across 3 nodes on one ${broker.name}: no ghosts`, { skip: broker.skip }, () => {
    let redis: { url: string; stop(): Promise<void> };
    const nodes: HeraldNode[] = [];
    const streams: RawStream[] = [];
    before(async () => {
      redis = await broker.start();
      nodes.push(...(await Promise.all([0, 1, 2].map(() => startNode(redis.url, PRESENCE)))));
    });
    after(async () => {
      for (const s of streams) s.close();
      for (const node of nodes) {
        await node.kill("SIGKILL"); // a stopped node too
      }
      await redis?.stop();
    });

    it("answers for every node, and forgets a SIGKILLed and a SIGSTOPped node within the TTL", async () => {
      const [a, b, c] = nodes as [HeraldNode, HeraldNode, HeraldNode];
      await subscribe(streams, a.url, "room/1", "alice");
      await subscribe(streams, b.url, "room/1", "bob");
      await subscribe(streams, c.url, "room/1", "carol");
      for (const node of nodes) {
        await eventually(
          async () => (await presenceOf(node.url, "room/1")).count === 3,
          `node ${node.url} sees 3 subscribers`,
        );
      }
      assert.deepEqual(await presenceOf(a.url, "room/1"), {
        topic: "room/1",
        count: 3,
        subscribers: ["alice", "bob", "carol"],
      });

      await b.kill("SIGKILL"); // dies: no leave is ever sent
      process.kill(c.pid, "SIGSTOP"); // cut off: its entries stop being renewed
      await eventually(
        async () => {
          const seen = await presenceOf(a.url, "room/1");
          return seen.count === 1 && seen.subscribers.join() === "alice";
        },
        "only alice left on room/1 (bob's and carol's entries expired)",
        10_000,
      );
      process.kill(c.pid, "SIGCONT"); // back: its next heartbeat brings carol back
      await eventually(
        async () => (await presenceOf(a.url, "room/1")).count === 2,
        "carol back once her node resumed",
        10_000,
      );
    });
  });

describe("presence across --workers 2 (memory bus)", () => {
  let herald: HeraldProcess;
  const streams: RawStream[] = [];
  before(async () => {
    herald = await spawnWorkers(2, {
      HERALD_JWT_SECRET: TEST_SECRET,
      HERALD_PRESENCE: "room/*",
      HERALD_PRESENCE_HEARTBEAT: "300ms",
    });
  });
  after(async () => {
    for (const s of streams) s.close();
    await stopHerald(herald);
  });

  it("counts the subscribers of both workers, whichever worker answers", async () => {
    // fresh connections (no keep-alive): round robin spreads them over both workers
    for (const sub of ["w1", "w2", "w3", "w4"]) {
      const token = await heraldToken({}, { subject: sub });
      const stream = new RawStream(`${herald.url}/events?topic=room/9`, {
        ...bearer(token),
        connection: "close",
      });
      streams.push(stream);
      await stream.opened();
    }
    for (let i = 0; i < 4; i++) {
      await eventually(
        async () => (await presenceOf(herald.url, "room/9")).count === 4,
        "4 subscribers seen from any worker",
      );
    }
    assert.deepEqual((await presenceOf(herald.url, "room/9")).subscribers, ["w1", "w2", "w3", "w4"]);
  });
});

describe("presence across --workers 2: a SIGKILLed worker's subscribers are announced gone", () => {
  // whichever worker dies (the leader or not), a worker that heard its members announces their
  // leave on $presence, and the count falls to 0; its replacement never heard them. Workers are
  // told apart by pid (/status perWorker, in pid order: the first forked, worker 0, comes first)
  for (const position of [0, 1]) {
    it(`the ${position === 0 ? "first" : "second"} worker killed: its subscriber's leave reaches a watcher on the other`, async () => {
      const herald = await spawnWorkers(2, {
        HERALD_JWT_SECRET: TEST_SECRET,
        HERALD_PRESENCE: "room/*",
        HERALD_PRESENCE_HEARTBEAT: "300ms",
      });
      const streams: RawStream[] = [];
      try {
        const workers = async () => {
          const answer = await httpRequest(`${herald.url}/status`);
          return (answer.body as { perWorker: { pid: number; connections: number }[] }).perWorker;
        };
        // fresh connections until one lands on the worker at `want` (round robin: soon)
        const openOn = async (want: number, topic: string, token: string) => {
          for (let attempt = 0; attempt < 20; attempt++) {
            const before = await workers();
            const stream = new RawStream(`${herald.url}/events?topic=${encodeURIComponent(topic)}`, {
              ...bearer(token),
              connection: "close",
            });
            await stream.opened();
            const after = await workers();
            const landed = after.findIndex((w, i) => w.connections > (before[i]?.connections ?? 0));
            if (landed === want) {
              streams.push(stream);
              return after[landed] as { pid: number };
            }
            stream.close();
            await eventually(
              async () => (await workers()).every((w, i) => w.connections === before[i]?.connections),
              "the stream that landed elsewhere closed",
            );
          }
          throw new Error(`no stream landed on worker ${want}`);
        };
        const watcherToken = await heraldToken({ subscribe: ["$presence/room/*"] }, { subject: "watcher" });
        await openOn(1 - position, "$presence/room/k", watcherToken);
        const watcher = streams[0] as RawStream;
        const victim = await openOn(position, "room/k", await heraldToken({}, { subject: "carol" }));
        await eventually(
          async () => (await presenceOf(herald.url, "room/k")).count === 1,
          "carol counted",
          10_000,
        );
        await watcher.until(() => /"sub":"carol"/.test(watcher.text), 10_000); // her join
        process.kill(victim.pid, "SIGKILL");
        await eventually(
          async () => (await presenceOf(herald.url, "room/k")).count === 0,
          "carol gone",
          10_000,
        );
        await watcher.until(
          () => watcher.text.split("\n").some((l) => l.includes('"leave"') && l.includes('"carol"')),
          10_000,
        );
      } finally {
        for (const s of streams) s.close();
        await stopHerald(herald);
      }
    });
  }
});
