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
