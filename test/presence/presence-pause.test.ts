import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { RABBIT_BIN, type RabbitServer, skipReason, startRabbit } from "../helpers/brokers.ts";
import { type HeraldNode, startNode } from "../helpers/cluster.ts";
import { RawStream } from "../helpers/herald.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";
import { until } from "../helpers/waiters.ts";
import { Receiver, SECRET } from "../helpers/webhook-receiver.ts";

// On RabbitMQ the node with the lowest id leads (no lock). Each node in turn is SIGSTOPped, so the
// leader is among them: the other node must announce the stopped node's topic vacated (it used to
// stay silent: it asked who leads before forgetting the dead leader), and the stopped node, once it
// resumes, must not announce the other node's topics vacated from its stale view (it used to).
describe("presence on RabbitMQ when a node, the leader included, is SIGSTOPped and resumes", {
  skip: skipReason(RABBIT_BIN, "rabbitmq-server"),
}, () => {
  let rabbit: RabbitServer;
  const nodes: HeraldNode[] = [];
  const streams: RawStream[] = [];
  const receiver = new Receiver();
  before(async () => {
    await receiver.start();
    rabbit = await startRabbit();
    const args = [
      ...["--jwt-secret", TEST_SECRET, "--presence", "room/*", "--presence-heartbeat", "300ms"],
      ...["--webhook-url", receiver.url, "--webhook-secret", SECRET],
    ];
    nodes.push(...(await Promise.all([startNode(rabbit.url, args), startNode(rabbit.url, args)])));
  });
  after(async () => {
    for (const s of streams) s.close();
    for (const node of nodes) await node.kill("SIGKILL"); // a stopped node too
    await rabbit?.stop();
    await receiver.close();
  });

  it("announces the stopped node's topic vacated, then occupied again, and no other topic vacated", async () => {
    const [a, b] = nodes as [HeraldNode, HeraldNode];
    const open = async (node: HeraldNode, topic: string, sub: string) => {
      const stream = new RawStream(
        `${node.url}/events?topic=${topic}`,
        bearer(await heraldToken({}, { subject: sub })),
      );
      streams.push(stream);
      await stream.opened();
    };
    await open(a, "room/a", "ann");
    await open(b, "room/b", "ben");
    const count = (type: string, topic: string) => receiver.of(type, topic).length;
    const what = () => JSON.stringify(receiver.deliveries.filter((d) => d.type.startsWith("topic.")));
    // while the two nodes' view of each other settles both may announce: at least once here
    await until(
      () => count("topic.occupied", "room/a") > 0 && count("topic.occupied", "room/b") > 0,
      "occupied",
    );

    for (const [node, topic] of [
      [a, "room/a"],
      [b, "room/b"],
    ] as const) {
      const occupied = count("topic.occupied", topic);
      process.kill(node.pid, "SIGSTOP");
      try {
        await until(() => count("topic.vacated", topic) === 1, `${topic} vacated`, 10_000);
      } finally {
        process.kill(node.pid, "SIGCONT");
      }
      await until(() => count("topic.occupied", topic) > occupied, `${topic} occupied again`, 10_000);
    }
    // a few heartbeats more: a stale announcement of the resumed node would have come by now
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(count("topic.vacated", "room/a"), 1, what());
    assert.equal(count("topic.vacated", "room/b"), 1, what());
  });
});
