import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { REDIS_BIN, skipReason } from "../helpers/brokers.ts";
import { type HeraldNode, startNode } from "../helpers/cluster.ts";
import { publishOnNode, publishOnNodeEventually } from "../helpers/node-publish.ts";
import { startNodeWithStream } from "../helpers/node-with-stream.ts";
import { startSentinelGroup } from "../helpers/redis-ha.ts";
import { setReplicaLinks } from "../helpers/replication-faults.ts";
import type { RecordingClient } from "../helpers/sse-client.ts";

/**
 * Promise (issue 17; docs/buses.md "After a failover", "Whatever each node's `wait`"): an event a
 * node answered with wait 0 and the new primary lacks is never a silent gap for a node that waits
 * for a replica, even when that node never read the announcement (it was stopped before it was
 * written) and the announcement did not reach the new primary. Two of the ways it is told, each
 * forced here (test/attack/redis-wait-auto-late-node.test.ts covers the announcement read live):
 * - the node that answered with wait 0 writes the failover marker: the marker says `gap`;
 * - another node wrote the marker first (no `gap`): the node that answered with wait 0 appends a
 *   second marker with `gap` once it runs a script on the new primary; the stream is told then.
 */
const skip = skipReason(REDIS_BIN, "redis-server");

const seen = (client: RecordingClient) =>
  client.events.map((e) => (e.type === "message" ? e.data : "herald.missed"));

describe("wait=1 and wait=0 nodes on one log: the failover is told to the wait=1 node's streams", {
  skip,
}, () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => {});
  });

  /**
   * A (wait=1) delivers e1 to its stream and is stopped; the replicas are cut off; C (wait=0)
   * starts and answers X with 200; the primary dies and a replica (without X) takes over.
   */
  async function loseX(): Promise<{ a: HeraldNode; c: HeraldNode; client: RecordingClient }> {
    const group = await startSentinelGroup();
    cleanup.push(() => group.stop());
    const { node: a, client } = await startNodeWithStream(`${group.url}?wait=1`, [], cleanup);
    process.kill(a.pid, "SIGSTOP"); // A reads nothing C writes on this primary
    const primary = await group.primary();
    await setReplicaLinks(group, primary, "not-the-password");
    const c = await startNode(`${group.url}?wait=0`);
    cleanup.push(async () => {
      process.kill(c.pid, "SIGCONT");
      await c.kill("SIGKILL");
    });
    const x = await publishOnNode(c, "t", "X");
    assert.equal(x.status, 200, x.body);
    await group.killPrimary();
    await group.failedOver(primary);
    await setReplicaLinks(group, primary, "");
    return { a, c, client };
  }

  it("C writes the failover marker: it says gap, and A's stream gets herald.missed before e2", async () => {
    const { a, c, client } = await loseX();
    await publishOnNodeEventually(c, "t", "e2"); // C's script on the new primary writes the marker
    process.kill(a.pid, "SIGCONT");
    await client.until(() => client.datas().includes("e2"), 30_000);
    assert.deepEqual(seen(client), ["e1", "herald.missed", "e2"]);
  });

  it("A writes the marker first: C appends a second one saying gap, and A's stream is told then", async () => {
    const { a, c, client } = await loseX();
    process.kill(c.pid, "SIGSTOP");
    process.kill(a.pid, "SIGCONT");
    await publishOnNodeEventually(a, "t", "e2"); // A's script on the new primary writes the marker (no gap)
    await client.until(() => client.datas().includes("e2"), 30_000);
    assert.deepEqual(seen(client), ["e1", "e2"], "A has no way to know of X yet");
    process.kill(c.pid, "SIGCONT");
    await client.until(() => seen(client).includes("herald.missed"), 30_000);
    await publishOnNodeEventually(a, "t", "e3");
    await client.until(() => client.datas().includes("e3"), 30_000);
    assert.deepEqual(seen(client), ["e1", "e2", "herald.missed", "e3"]);
  });
});
