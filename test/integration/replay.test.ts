import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { publish, RawStream, startTestHerald } from "../helpers/herald.ts";
import { RecordingClient } from "../helpers/sse-client.ts";

describe("Last-Event-ID replay", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({ retryMs: 50, replayLimit: 1000 });
  });
  after(() => herald.close());

  it("an eventsource client cut off mid-stream resumes with no gap and no duplicate while publishing goes on", async () => {
    const client = new RecordingClient(`${herald.url}/events?topic=live`);
    await client.opened();
    const total = 300;
    const publisher = (async () => {
      for (let i = 1; i <= total; i++) {
        const res = await publish(herald.url, { topic: ["live"], data: String(i) });
        assert.equal(res.status, 200);
        if (i % 60 === 0) {
          // Drop every open stream from the server side: the client must reconnect with Last-Event-ID.
          for (const connection of herald.connections) connection.end("error");
        }
      }
    })();
    await publisher;
    await client.until(() => client.events.length >= total, 20_000);
    assert.ok(client.opens >= 3, `expected reconnects, saw ${client.opens} opens`);
    assert.deepEqual(
      client.datas(),
      Array.from({ length: total }, (_, i) => String(i + 1)),
    );
    client.close();
  });

  it("accepts the lastEventId query parameter, and the header wins over it", async () => {
    const ids: string[] = [];
    for (const data of ["q1", "q2", "q3"]) {
      ids.push(((await publish(herald.url, { topic: "q", data })).body as { id: string }).id);
    }
    const byQuery = new RawStream(`${herald.url}/events?topic=q&lastEventId=${ids[0]}`);
    await byQuery.until(() => byQuery.text.includes("data: q3"));
    assert.deepEqual(byQuery.ids(), [ids[1], ids[2]]);
    const both = new RawStream(`${herald.url}/events?topic=q&lastEventId=${ids[0]}`, {
      "Last-Event-ID": ids[1] as string,
    });
    await both.until(() => both.text.includes("data: q3"));
    assert.deepEqual(both.ids(), [ids[2]]);
    byQuery.close();
    both.close();
  });

  it("replays only the subscription's topics", async () => {
    const start = ((await publish(herald.url, { topic: "r1", data: "start" })).body as { id: string }).id;
    await publish(herald.url, { topic: "r2", data: "other topic" });
    await publish(herald.url, { topic: "r1", data: "mine" });
    const stream = new RawStream(`${herald.url}/events?topic=r1`, { "Last-Event-ID": start });
    await stream.until(() => stream.text.includes("data: mine"));
    assert.doesNotMatch(stream.text, /other topic/);
    stream.close();
  });

  it("an unknown id gets the documented herald.missed event, then the live stream", async () => {
    const client = new RecordingClient(`${herald.url}/events?topic=m`, ["message", "herald.missed"], {
      "Last-Event-ID": "an-id-never-seen",
    });
    await client.until(() => client.events.length === 1);
    const missed = client.events[0]!;
    assert.equal(missed.type, "herald.missed");
    assert.deepEqual(JSON.parse(missed.data), { lastEventId: "an-id-never-seen", reason: "unknown-id" });
    await publish(herald.url, { topic: "m", data: "live" });
    await client.until(() => client.events.length === 2);
    assert.deepEqual(client.events[1]?.data, "live");
    client.close();
  });

  it("an id from before a restart (another epoch) is reported as missed, never as up to date", async () => {
    const stream = new RawStream(`${herald.url}/events?topic=m`, { "Last-Event-ID": "0123abcd-5" });
    await stream.until(() => stream.text.includes("herald.missed"));
    assert.match(stream.text, /"reason":"epoch-changed"/);
    stream.close();
  });
});

describe("Last-Event-ID with non-ASCII characters", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald();
  });
  after(() => herald.close());

  /** A stream request whose headers go out as raw UTF-8 bytes, as browsers send them. */
  const rawStream = (path: string, lastEventId: string) => {
    const url = new URL(herald.url);
    const socket = connect(Number(url.port), url.hostname);
    const state = { text: "" };
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      state.text += chunk;
    });
    socket.on("error", () => {});
    socket.write(
      Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\nLast-Event-ID: ${lastEventId}\r\n\r\n`, "utf8"),
    );
    return { state, socket };
  };

  it("resumes after an id sent as UTF-8 bytes (e.g. by a browser)", async () => {
    for (const id of ["café-1", "café-2", "日本-3"]) {
      const res = await publish(herald.url, { topic: "utf", data: id, id });
      assert.equal(res.status, 200, res.text);
    }
    const { state, socket } = rawStream("/events?topic=utf", "café-1");
    try {
      const deadline = Date.now() + 5000;
      while (!state.text.includes("id: 日本-3") && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.match(state.text, /id: café-2\n/);
      assert.match(state.text, /id: 日本-3\n/);
      assert.doesNotMatch(state.text, /herald\.missed/, "the id was found");
      assert.doesNotMatch(state.text, /id: café-1\n/, "no duplicate");
    } finally {
      socket.destroy();
    }
  });
});
