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

async function publishBatch(node: HeraldNode, events: { topic: string; data: string }[]): Promise<number> {
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
    const started = await startNode(url, [], waitReady);
    nodes.push(started);
    return started;
  };
  const client = async (url: string) => {
    const recording = new RecordingClient(url, TYPES);
    clients.push(recording);
    await recording.opened();
    return recording;
  };

  it("a node stopped (SIGSTOP) while the other publishes: its streams get every event after SIGCONT", async () => {
    const [a, b] = [await node(), await node()];
    const stalled = await client(`${a.url}/events?topic=stall`);
    process.kill(a.pid, "SIGSTOP");
    stopped.add(a.pid);
    const events = batch("stall", "s", 1000);
    for (let i = 0; i < events.length; i += 500) {
      assert.equal(await publishBatch(b, events.slice(i, i + 500)), 200);
    }
    process.kill(a.pid, "SIGCONT");
    stopped.delete(a.pid);
    await stalled.until(() => stalled.events.length >= 1000, 30_000);
    assert.deepEqual(
      stalled.events.map((e) => e.type === "message" && e.data),
      events.map((e) => e.data),
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
