import assert from "node:assert/strict";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { freePort, RABBIT_BIN, type RabbitServer, skipReason, startRabbit } from "../helpers/brokers.ts";
import { type HeraldNode, startNode } from "../helpers/cluster.ts";
import { RecordingClient } from "../helpers/sse-client.ts";
import { eventually } from "../helpers/waiters.ts";

/**
 * Issue 11, the RabbitMQ bus, with Herald nodes as real processes: a stalled node loses nothing,
 * and a stream without Last-Event-ID gets no old event. (A consumer that falls behind the stream's
 * retention is told of the gap: the contract test, test/bus-contract.ts, with a small retention.)
 */

const skip = skipReason(RABBIT_BIN, "rabbitmq-server");
const TYPES = ["message", "herald.missed"];

type Event = { topic: string; data: string };

async function publishBatch(node: HeraldNode, events: Event[]): Promise<number> {
  const response = await fetch(`${node.url}/publish/batch`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ events }),
  });
  await response.arrayBuffer();
  return response.status;
}

/**
 * A TCP relay to `target` on `port`, listening only once `open()` is called: until then a node
 * given `port` cannot reach the broker (refused), as when the broker is down or the network cut.
 */
function relay(port: number, target: number) {
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  return {
    open: () =>
      new Promise<void>((resolve) => {
        server = createServer((socket) => {
          const upstream = createConnection(target, "127.0.0.1");
          for (const s of [socket, upstream]) {
            sockets.add(s);
            s.on("error", () => undefined);
            s.on("close", () => {
              socket.destroy();
              upstream.destroy();
            });
          }
          socket.pipe(upstream).pipe(socket);
        });
        server.listen(port, "127.0.0.1", resolve);
      }),
    close: () => {
      for (const s of sockets) s.destroy();
      server?.close();
    },
  };
}

const batch = (topic: string, prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ topic, data: `${prefix}${i}` }));

describe("RabbitMQ bus: no silent loss, no old event as live", { skip }, () => {
  let rabbit: RabbitServer;
  const relays: { close(): void }[] = [];
  const nodes: HeraldNode[] = [];
  const clients: RecordingClient[] = [];
  const stopped = new Set<number>();
  before(async () => {
    rabbit = await startRabbit();
  });
  after(async () => {
    for (const client of clients) client.close();
    for (const pid of stopped) process.kill(pid, "SIGCONT");
    for (const node of nodes) await node.kill("SIGTERM");
    for (const r of relays) r.close();
    await rabbit?.stop();
  });
  const node = async (waitReady = true, url = rabbit.url) => {
    // a loaded machine may take long to read three 10,000-event bodies at once: the promise checked
    // here is what an answer means, not how fast the bodies arrive (408 is for slow clients)
    const started = await startNode(url, ["--request-timeout", "120s"], waitReady);
    nodes.push(started);
    return started;
  };
  /** The first two nodes, started when not yet. */
  const twoNodes = async () => {
    while (nodes.length < 2) await node();
    return [nodes[0], nodes[1]] as [HeraldNode, HeraldNode];
  };
  /** Publishes `events` on `publisher` in batches of `size` (each answered 200) while `paused` is SIGSTOPped. */
  const publishWhileStopped = async (
    paused: HeraldNode,
    publisher: HeraldNode,
    events: Event[],
    size: number,
  ) => {
    process.kill(paused.pid, "SIGSTOP");
    stopped.add(paused.pid);
    for (let i = 0; i < events.length; i += size) {
      assert.equal(await publishBatch(publisher, events.slice(i, i + size)), 200);
    }
    process.kill(paused.pid, "SIGCONT");
    stopped.delete(paused.pid);
  };
  const client = async (url: string) => {
    const recording = new RecordingClient(url, TYPES);
    clients.push(recording);
    await recording.opened();
    return recording;
  };

  it("three concurrent batches of 10,000 on two nodes: every batch answers 200, every stream gets all 30,000 in order", async () => {
    const [a, b] = await twoNodes();
    const streams = [
      await client(`${a.url}/events?topic=burst`),
      await client(`${b.url}/events?topic=burst`),
    ];
    const batches = [0, 1, 2].map((i) => batch("burst", `b${i}-`, 10_000));
    // the nodes read 30,000 events back from the stream: longer than the 5 s a publish once waited
    const statuses = await Promise.all(batches.map((events, i) => publishBatch(i % 2 === 0 ? a : b, events)));
    assert.deepEqual(statuses, [200, 200, 200]);
    for (const stream of streams) {
      await stream.until(() => stream.events.length >= 30_000, 60_000);
      assert.equal(stream.events.length, 30_000);
      assert.equal(new Set(stream.datas()).size, 30_000);
      for (const events of batches) {
        const mine = stream.datas().filter((d) => d.startsWith(events[0]?.data.slice(0, 3) ?? "?"));
        assert.deepEqual(
          mine,
          events.map((e) => e.data),
          "each batch in its order",
        );
      }
    }
  });

  it("a node stopped (SIGSTOP) while the other publishes: its streams get every event after SIGCONT", async () => {
    const [a, b] = await twoNodes();
    const stalled = await client(`${a.url}/events?topic=stall`);
    const events = batch("stall", "s", 1000);
    await publishWhileStopped(a, b, events, 500);
    await stalled.until(() => stalled.events.length >= 1000, 30_000);
    assert.deepEqual(
      stalled.events.map((e) => e.type === "message" && e.data),
      events.map((e) => e.data),
    );
  });

  it("a node stopped (SIGSTOP) while the other publishes: a stream opened on it after SIGCONT gets no event published before it opened", async () => {
    const [a, b] = await twoNodes();
    await publishWhileStopped(b, a, batch("fresh", "old", 6000), 3000);
    // b's tail still has the 6,000 events to read: the stream must not get them as live
    const stream = await client(`${b.url}/events?topic=fresh`);
    assert.equal(await publishBatch(a, [{ topic: "fresh", data: "new" }]), 200);
    await stream.until(() => stream.datas().includes("new"), 30_000);
    assert.deepEqual(
      stream.events.map((e) => e.data),
      ["new"],
    );
  });

  it("a node started while it cannot reach RabbitMQ: a stream opened then gets no old event, and every later one", async () => {
    const a = nodes[0] ?? (await node());
    assert.equal(await publishBatch(a, batch("old", "old", 20)), 200);
    // the events above are history: wait until they are clearly older than the node started below
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const port = await freePort();
    const cut = relay(port, Number(new URL(rabbit.url).port));
    relays.push(cut);
    const late = await node(false, rabbit.url.replace(/:\d+$/, `:${port}`));
    const stream = await client(`${late.url}/events?topic=old`);
    // published after the stream opened, while its node cannot reach the broker
    assert.equal(await publishBatch(a, [{ topic: "old", data: "during" }]), 200);
    await cut.open();
    await eventually(async () => (await fetch(`${late.url}/readyz`)).status === 200, "ready", 60_000);
    assert.equal(await publishBatch(late, [{ topic: "old", data: "new" }]), 200);
    await stream.until(() => stream.datas().includes("new"), 30_000);
    assert.deepEqual(
      stream.events.map((e) => e.data),
      ["during", "new"],
    );
  });
});
