import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { REDIS_BIN, skipReason } from "../helpers/brokers.ts";
import { startNode } from "../helpers/cluster.ts";
import { RawStream } from "../helpers/herald.ts";
import { publishOnNode, publishOnNodeEventually } from "../helpers/node-publish.ts";
import { startSentinelGroup } from "../helpers/redis-ha.ts";
import { cutReplication } from "../helpers/replication-faults.ts";
import { RecordingClient } from "../helpers/sse-client.ts";

/**
 * Promise (docs/buses.md "What wait=0 loses" / "After a failover": with `wait=0` "every stream is
 * told at every failover: `herald.missed` with reason `gap`, placed after the last event the new
 * primary got from the old one ...; a replay never crosses it"; README: "never a silent gap").
 * The scenario of test/buses/redis-failover.test.ts (the old primary acknowledged X, which its
 * replicas never got, then died), plus one step: a node started after the failover (a restarted
 * node, or one added) serves a client resuming from before it.
 *
 * Found in an attack round (2026-12-03): a node that reads the failover marker while loading the
 * log at start (`RedisBus`, `loading`) stores it and sets no gap floor, so its replays cross the
 * failover: the client resuming from e1 gets e2 with no `herald.missed`, and X, acknowledged 200,
 * is silently gone. Nodes A and B, which read the marker live, tell the same client `gap`.
 */
const skip = skipReason(REDIS_BIN, "redis-server");

describe("wait=0: a node started after a failover still never replays across it", { skip }, () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => {});
  });

  it("a client resuming from before the lost event on the new node is told (herald.missed, gap)", async () => {
    const group = await startSentinelGroup();
    cleanup.push(() => group.stop());
    const bus = `${group.url}?wait=0`;
    const a = await startNode(bus);
    cleanup.push(() => a.kill("SIGKILL"));
    const client = new RecordingClient(`${a.url}/events?topic=t`, ["message", "herald.missed"]);
    cleanup.push(async () => client.close());
    await client.opened();
    await publishOnNodeEventually(a, "t", "e1");
    await client.until(() => client.datas().includes("e1"));
    const e1 = client.events.find((e) => e.data === "e1")?.id as string;
    // the old primary acknowledges X, which no replica gets, then dies
    const primary = await group.primary();
    await cutReplication(group, primary);
    const x = await publishOnNode(a, "t", "X");
    assert.equal(x.status, 200, x.body);
    await group.killPrimary();
    await group.failedOver(primary);
    await publishOnNodeEventually(a, "t", "e2");
    await client.until(() => client.datas().includes("e2"), 30_000);
    // node C joins after the failover; a client that had e1 (it missed X) resumes there, and on A
    const c = await startNode(bus);
    cleanup.push(() => c.kill("SIGKILL"));
    for (const [name, node] of [
      ["A", a],
      ["C", c],
    ] as const) {
      const stream = new RawStream(`${node.url}/events?topic=t`, { "last-event-id": e1 });
      try {
        await stream.opened();
        await publishOnNodeEventually(a, "t", `fence ${name}`);
        await stream.until(() => stream.text.includes(`data: fence ${name}`), 30_000);
        assert.match(
          stream.text,
          /event: herald\.missed\n/,
          `node ${name} replayed across the failover without telling the client: ${stream.text}`,
        );
      } finally {
        stream.close();
      }
    }
  });
});
