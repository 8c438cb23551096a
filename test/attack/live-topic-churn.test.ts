import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { RABBIT_BIN, REDIS_BIN, skipReason, startRabbit, startRedis } from "../helpers/brokers.ts";
import { type HeraldNode, startNode } from "../helpers/cluster.ts";
import { prng } from "../helpers/prng.ts";
import { type HeraldProcess, spawnWorkers, stopHerald } from "../helpers/process.ts";
import { ControlledClient, postJson } from "../helpers/stream-control.ts";
import { TEST_SECRET } from "../helpers/tokens.ts";
import { until } from "../helpers/waiters.ts";

/**
 * Promise (issue 16, docs/streams.md "No event lost or duplicated across a change"): "Events stored
 * before the change are filtered by the old topics, and events stored after it by the new ones.
 * Each event reaches the stream once, in log order." and "This works across workers and nodes".
 *
 * A checker over a whole history, not one switch: one publisher publishes `a:<n>` and `b:<n>`
 * alternately without pause (one at a time, so n is the log order), round robin over every entry
 * point; meanwhile `b` is added and removed TOGGLES times, each change sent to an entry point drawn
 * from a seeded PRNG (HERALD_FUZZ_SEED). `a` is never removed. Then:
 * - n strictly increases (log order, no duplicate);
 * - every `a` from the first one received on arrives (a stays subscribed throughout);
 * - every `b` sent after an add was answered and acknowledged before the next remove was sent
 *   arrives;
 * - no `b` sent after a remove was answered and acknowledged before the next add was sent arrives.
 */
const TOGGLES = 30;
const SEED = Number(process.env.HERALD_FUZZ_SEED ?? 16);

interface Sent {
  topic: "a" | "b";
  n: number;
}

async function churn(entries: readonly string[], streamUrl: string): Promise<void> {
  const random = prng(SEED);
  const client = new ControlledClient(`${streamUrl}/events?topic=a`);
  try {
    const { id } = await client.opened();
    const sent: Sent[] = [];
    let acked = 0;
    let stop = false;
    let n = 0;
    const publisher = (async () => {
      while (!stop) {
        const topic = n % 2 === 0 ? "a" : "b";
        const at = n;
        sent.push({ topic, n: at });
        const answer = await postJson(`${entries[at % entries.length]}/publish`, {
          topic,
          data: `${topic}:${at}`,
        });
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        acked = at + 1;
        n++;
      }
    })();
    const waitPublishes = async (count: number) => {
      const target = acked + count;
      await until(() => acked >= target, `${count} more publishes`);
    };
    /** [from, to): b numbers that must arrive; [from, to): b numbers that must not. */
    const mustHave: [number, number][] = [];
    const mustNot: [number, number][] = [];
    let lastRemoveAnswered = -1;
    try {
      await waitPublishes(4);
      for (let i = 0; i < TOGGLES; i++) {
        const entry = random.pick(entries);
        // only publishes acknowledged before a change is sent are surely stored before it
        if (lastRemoveAnswered >= 0) mustNot.push([lastRemoveAnswered, acked]);
        const add = await postJson(`${entry}/streams/${id}/topics`, { add: ["b"] });
        assert.equal(add.status, 200, `toggle ${i} add via ${entry}: ${JSON.stringify(add.body)}`);
        const addedAt = sent.length;
        await waitPublishes(2 + random.int(4));
        mustHave.push([addedAt, acked]);
        const remove = await postJson(`${random.pick(entries)}/streams/${id}/topics`, { remove: ["b"] });
        assert.equal(remove.status, 200, `toggle ${i} remove: ${JSON.stringify(remove.body)}`);
        lastRemoveAnswered = sent.length;
        await waitPublishes(2 + random.int(4));
      }
    } finally {
      stop = true;
      await publisher.catch(() => {});
    }
    const lastA = sent.filter((e) => e.topic === "a").at(-1) as Sent;
    await until(() => client.got.some((e) => e.n === lastA.n), "the last a event", 30_000);
    const ns = client.got.map((e) => e.n);
    for (let i = 1; i < ns.length; i++) {
      assert.ok(ns[i]! > ns[i - 1]!, `out of order or duplicate at ${i}: ${ns[i - 1]} then ${ns[i]}`);
    }
    const got = new Set(ns);
    const firstA = client.got.find((e) => e.topic === "a")?.n ?? 0;
    const lostA = sent.filter((e) => e.topic === "a" && e.n >= firstA && !got.has(e.n)).map((e) => e.n);
    assert.deepEqual(lostA, [], "a is never removed: every a event arrives");
    const lostB = sent
      .filter((e) => e.topic === "b" && mustHave.some(([from, to]) => e.n >= from && e.n < to))
      .filter((e) => !got.has(e.n))
      .map((e) => e.n);
    assert.deepEqual(lostB, [], "every b sent while b was surely subscribed arrives");
    const extraB = client.got
      .filter((e) => e.topic === "b" && mustNot.some(([from, to]) => e.n >= from && e.n < to))
      .map((e) => e.n);
    assert.deepEqual(extraB, [], "no b sent while b was surely not subscribed arrives");
  } finally {
    client.close();
  }
}

describe(`live topic changes: b added and removed ${TOGGLES} times while a and b are published`, () => {
  describe("--workers 2, memory bus (changes land on either worker)", () => {
    let herald: HeraldProcess | undefined;
    before(async () => {
      // 60 changes in about a second: over the default control rate (10/s, bursts of 50) on a fast
      // machine; the rate limit is not what this checks (test/limits/control-rate.test.ts does)
      herald = await spawnWorkers(2, {
        HERALD_JWT_SECRET: TEST_SECRET,
        HERALD_RETRY: "200ms",
        HERALD_CONTROL_RATE: "1000000",
        HERALD_CONTROL_BURST: "1000000",
      });
    });
    after(async () => {
      if (herald !== undefined) await stopHerald(herald);
    });
    it("each event of the topics in effect once, in order", async () => {
      const url = (herald as HeraldProcess).url;
      await churn([url], url);
    });
  });

  const buses = [
    { title: "Redis", skip: skipReason(REDIS_BIN, "redis-server"), start: startRedis },
    { title: "RabbitMQ", skip: skipReason(RABBIT_BIN, "rabbitmq-server"), start: startRabbit },
  ];
  for (const bus of buses) {
    describe(`2 nodes on ${bus.title} (stream on A, changes on A or B)`, { skip: bus.skip }, () => {
      let broker: { url: string; stop(): Promise<void> } | undefined;
      const nodes: HeraldNode[] = [];
      before(async () => {
        broker = await bus.start();
        for (let i = 0; i < 2; i++) nodes.push(await startNode(broker.url, ["--jwt-secret", TEST_SECRET]));
      });
      after(async () => {
        for (const node of nodes) await node.kill("SIGTERM");
        await broker?.stop();
      });
      it("each event of the topics in effect once, in order", async () => {
        const [a, b] = nodes as [HeraldNode, HeraldNode];
        await churn([a.url, b.url], a.url);
      });
    });
  }
});
