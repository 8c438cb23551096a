import assert from "node:assert/strict";
import { describe } from "node:test";
import { type HeraldNode, startNode } from "../helpers/cluster.ts";
import { itOnEachSharedBus } from "../helpers/each-shared-bus.ts";
import { RawStream } from "../helpers/herald.ts";

/**
 * Promise (README, docs/concepts.md, docs/buses.md "A Herald node killed": "its clients reconnect
 * (to another node, through the load balancer) with `Last-Event-ID` and get what they missed from
 * that node's copy of the history"; issue 11: "every event answered 2xx is delivered once and in
 * order"). A client that read events on node A reconnects to node B, which has not read that far
 * in the shared log yet (B is behind: it was stalled, or busy reading a burst back).
 *
 * Found in an attack round (2026-12-03), first by `npm run chaos -- --bus redis --seed 90210`
 * (step 21, a node SIGKILLed during a burst: `duplicate 3, order 1` on an eventsource subscriber).
 * B waits for its tail to reach the resume point (`LogBus.catchUp`) with the subscriber already
 * registered, so the events its tail reads meanwhile are queued as live; the replay after the
 * resume point is then empty and leaves the subscriber's position at 0, and `release()` writes the
 * queued events, all at or before the resume point: events the client already had, again and out
 * of order.
 */
async function resumesOnLaggingNode(busUrl: string, nodes: HeraldNode[]): Promise<void> {
  const a = await startNode(busUrl);
  nodes.push(a);
  const b = await startNode(busUrl);
  nodes.push(b);
  // B stalls while A takes a burst (a long pause, or a node busy elsewhere)
  process.kill(b.pid, "SIGSTOP");
  let lastId = "";
  try {
    const events = Array.from({ length: 3000 }, (_, i) => ({ topic: "r", data: `r${i}` }));
    const response = await fetch(`${a.url}/publish/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ events }),
    });
    assert.equal(response.status, 200);
    const answer = (await response.json()) as { results: { id: string }[] };
    lastId = answer.results.at(-1)?.id ?? "";
  } finally {
    // the client that read all 3000 on A reconnects to B with the last id (the request waits in
    // B's listen queue until B runs again)
    process.kill(b.pid, "SIGCONT");
  }
  const stream = new RawStream(`${b.url}/events?topic=r`, { "last-event-id": lastId });
  try {
    await stream.opened();
    const fence = await fetch(`${a.url}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ topic: "r", data: "fence" }),
    });
    assert.equal(fence.status, 200);
    await stream.until(() => stream.text.includes("data: fence"), 30_000);
    const again = [...stream.text.matchAll(/^data: (r\d+)$/gm)].map((m) => m[1]);
    assert.deepEqual(
      again.slice(0, 5),
      [],
      `${again.length} events the client already had (at or before ${lastId}) were sent again`,
    );
    assert.doesNotMatch(stream.text, /herald\.missed/);
  } finally {
    stream.close();
  }
}

describe("resuming on a node behind the shared log: no event at or before Last-Event-ID again", () => {
  itOnEachSharedBus(
    "the events B reads while it catches up are not sent to the resumed stream",
    resumesOnLaggingNode,
  );
});
