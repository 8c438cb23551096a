import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { publish, RawStream, startTestHerald } from "../helpers/herald.ts";
import { RecordingClient } from "../helpers/sse-client.ts";

describe("slow and dead clients", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({ maxBufferedBytes: 64 * 1024 });
  });
  after(() => herald.close());

  it("cuts off a reader that does not read, while fast readers get every event", async () => {
    const slow = new RawStream(`${herald.url}/events?topic=big`, {}, true);
    const fast = new RecordingClient(`${herald.url}/events?topic=big`);
    await fast.opened();
    await slow.until(() => slow.status === 200);
    const chunk = "x".repeat(100_000);
    const total = 200; // 20 MB: more than the kernel's socket buffers can hide
    for (let i = 0; i < total; i++) {
      const res = await publish(herald.url, { topic: "big", data: `${i} ${chunk}` });
      assert.equal(res.status, 200);
    }
    await fast.until(() => fast.events.length === total, 30_000);
    assert.deepEqual(
      fast.datas().map((d) => Number(d.split(" ")[0])),
      Array.from({ length: total }, (_, i) => i),
    );
    assert.equal(herald.hub.counters.slowDisconnects, 1);
    assert.equal(herald.hub.subscriberCount, 1);
    assert.equal(herald.connections.size, 1);
    fast.close();
    slow.close();
  });

  /** The kernel's sockets from `localPort` to `remotePort` (IPv4 and IPv6): state and bytes unsent. */
  const kernelSockets = (localPort: number, remotePort: number) => {
    const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, "0");
    const found: { state: string; unsent: number }[] = [];
    for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
      for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f.length < 5) continue;
        if (f[1]?.endsWith(`:${hex(localPort)}`) && f[2]?.endsWith(`:${hex(remotePort)}`))
          found.push({ state: f[3] as string, unsent: Number.parseInt(f[4]?.split(":")[0] ?? "0", 16) });
      }
    }
    return found;
  };

  it("a reader cut off as slow is reset: the kernel keeps none of its unsent bytes", async () => {
    const port = Number(new URL(herald.url).port);
    const before = herald.hub.counters.slowDisconnects;
    const socket = connect({ port, host: "127.0.0.1" });
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    const clientPort = socket.localPort as number;
    socket.write("GET /events?topic=orphan HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise<void>((resolve) => socket.once("data", () => resolve()));
    socket.pause(); // reads nothing more: the kernel's buffers fill, then Herald's bound
    socket.on("error", () => undefined); // the reset, once it reads again
    const chunk = "x".repeat(100_000);
    for (let i = 0; i < 200 && herald.hub.counters.slowDisconnects === before; i++) {
      assert.equal((await publish(herald.url, { topic: "orphan", data: `${i} ${chunk}` })).status, 200);
    }
    assert.equal(herald.hub.counters.slowDisconnects, before + 1, "cut off as slow");
    // a FIN would leave the server's socket in FIN-WAIT-1 holding megabytes for as long as the
    // client does not read (kernel memory no limit of Herald's counts); a reset frees it at once
    const deadline = Date.now() + 5000;
    let left = kernelSockets(port, clientPort);
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      left = kernelSockets(port, clientPort);
    }
    assert.deepEqual(left, [], "the server's side of the connection is gone");
    socket.destroy();
  });

  it("leaves nothing behind after 10,000 clients connect and drop", async () => {
    const count = 10_000;
    const batch = 500;
    const port = new URL(herald.url).port;
    for (let done = 0; done < count; done += batch) {
      await Promise.all(
        Array.from(
          { length: batch },
          (_, i) =>
            new Promise<void>((resolve, reject) => {
              const socket = connect(Number(port), "127.0.0.1", () => {
                socket.write(
                  `GET /events?topic=leak${(done + i) % 50}&topic=all HTTP/1.1\r\nHost: x\r\n\r\n`,
                );
              });
              socket.once("data", () => {
                socket.destroy();
                resolve();
              });
              socket.once("error", reject);
            }),
        ),
      );
    }
    // Closing is asynchronous on the server side: wait until every close was processed.
    const deadline = Date.now() + 15_000;
    while (herald.hub.subscriberCount > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(herald.hub.subscriberCount, 0);
    assert.equal(herald.hub.indexSize, 0);
    assert.equal(herald.connections.size, 0);
    const [result] = await herald.hub.publish([{ topics: ["all"], data: "nobody" }]);
    assert.equal(result?.queued, 0);
  });
});
