import assert from "node:assert/strict";
import { describe } from "node:test";
import { type HeraldNode, startNode } from "../helpers/cluster.ts";
import { itOnEachSharedBus } from "../helpers/each-shared-bus.ts";
import { RawStream } from "../helpers/herald.ts";
import { eventsOf } from "../helpers/id-scope-suite.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";

/**
 * Promise (issue 11, id squatting: "a publisher can never stop or change the delivery of events it
 * may not publish"; docs/concepts.md "Ids": "Once an event carrying an id has left the history ...,
 * a resume from that id is `herald.missed` (`unknown-id`) even while a newer event carries it: the
 * client may have seen the one that left, and resuming after the newer one would skip what came
 * between"; docs/buses.md: a client whose node died "reconnect[s] (to another node, through the
 * load balancer) with `Last-Event-ID`"). test/integration/resume-hijack.test.ts checks this on one
 * node.
 *
 * Found in an attack round (2026-12-03): the memory of evicted ids is per node. A node that started
 * after payroll's event `X` left the histories never held `X`, so when a sandbox publisher squats
 * `X` on a topic the subscriber also follows, that node resumes after the squat: april and may,
 * which the subscriber never got, are skipped with no `herald.missed`. Node A, which saw `X` leave,
 * answers the same request with `herald.missed`.
 */
async function squatOnOtherNode(busUrl: string, nodes: HeraldNode[]): Promise<void> {
  const args = ["--history-size", "4", "--jwt-secret", TEST_SECRET];
  const a = await startNode(busUrl, args);
  nodes.push(a);
  const sandbox = await heraldToken({ publish: ["sandbox"] }, { subject: "tester", expiresInSec: 600 });
  const payroll = await heraldToken(
    { publish: ["payroll"] },
    { subject: "payroll-service", expiresInSec: 600 },
  );
  const send = async (node: HeraldNode, token: string, body: unknown) => {
    const response = await fetch(`${node.url}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer(token) },
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 200, await response.text());
  };
  await send(a, payroll, { topic: "payroll", id: "payroll-2025-03", data: "march" });
  // the subscriber saw "payroll-2025-03" on A and went away; payroll goes on
  await send(a, payroll, { topic: "payroll", data: "april" });
  await send(a, payroll, { topic: "payroll", data: "may" });
  // sandbox pushes the seen event out of the histories (4 events) and squats its id
  await send(a, sandbox, { topic: "sandbox", data: "filler" });
  await send(a, sandbox, { topic: "sandbox", id: "payroll-2025-03", data: "squat" });
  // node B starts now (a restarted node, or one added to the cluster): it never held march
  const b = await startNode(busUrl, args);
  nodes.push(b);
  // the same request on A (which saw march leave) and on B, each after the squat
  for (const [name, node] of [
    ["A", a],
    ["B", b],
  ] as const) {
    const stream = new RawStream(`${node.url}/events?topic=payroll&topic=sandbox`, {
      "last-event-id": "payroll-2025-03",
    });
    try {
      await stream.opened();
      await send(a, payroll, { topic: "payroll", data: `june ${name}` });
      await stream.until(() => stream.text.includes(`june ${name}`), 15_000);
      const datas = eventsOf(stream.text).map((e) => (e.type === "herald.missed" ? "herald.missed" : e.data));
      // april and may were missed: they come again (still held), or the stream is told
      assert.ok(
        datas.includes("april") || datas.includes("herald.missed"),
        `node ${name} silently skipped april and may: ${JSON.stringify(datas)}`,
      );
    } finally {
      stream.close();
    }
  }
}

describe("a squatted id cannot move a resume past missed events on a node that never held the original", () => {
  itOnEachSharedBus("node B tells the stream (herald.missed) or replays april and may", squatOnOtherNode);
});
