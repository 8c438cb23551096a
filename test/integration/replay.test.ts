import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../src/server/app.ts";
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
