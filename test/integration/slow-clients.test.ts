import assert from "node:assert/strict";
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
