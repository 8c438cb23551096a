import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { EventSource } from "eventsource";
import type { Herald } from "../../packages/herald/src/herald.ts";
import {
  type HeraldMessage,
  type MissedInfo,
  publish,
  type StateChange,
  subscribe,
} from "../../packages/herald-client/src/index.ts";
import { closersForSuite, portOf, SurvivingBus } from "../helpers/restart.ts";
import { until } from "../helpers/waiters.ts";

interface Tick {
  n: number;
  note?: string;
}

/** Publishes `{n}` for each n, in order, and returns their ids. */
async function publishTicks(url: string, topic: string, ns: number[]): Promise<string[]> {
  const ids: string[] = [];
  for (const n of ns) ids.push((await publish<Tick>({ url, topic, data: { n } })).id);
  return ids;
}

describe("client SDK against a real Herald", () => {
  const { closeLater, start } = closersForSuite(after);

  test("events arrive in order as typed JSON (text when not JSON), through callbacks and the async iterator", async () => {
    const herald = await start(0);
    const received: HeraldMessage<Tick | string>[] = [];
    const sub = subscribe<Tick | string>({
      url: herald.url,
      topics: ["a", "b"],
      onEvent: (m) => received.push(m),
    });
    const it = subscribe<Tick | string>({ url: herald.url, topics: ["a", "b"] }); // no onEvent: held for the iterator
    await until(() => sub.state === "open" && it.state === "open", "open");
    await publish({ url: herald.url, topic: "a", data: { n: 1 } });
    await publish({ url: herald.url, topic: "b", data: "plain <b>text</b>\nline 2", event: "note" });
    const iterated: HeraldMessage<Tick | string>[] = [];
    for await (const message of it) {
      iterated.push(message);
      if (iterated.length === 2) break;
    }
    assert.deepEqual(
      received.map((m) => [m.type, m.data]),
      [
        ["message", { n: 1 }],
        ["note", "plain <b>text</b>\nline 2"],
      ],
    );
    assert.deepEqual(iterated, received);
    assert.equal(it.state, "closed", "leaving the loop closes the subscription");
    sub.close();
    await until(() => herald.connections.size === 0, "the server to see the streams closed");
  });

  test("AbortSignal closes the subscription and ends the iterator", async () => {
    const herald = await start(0);
    const controller = new AbortController();
    const sub = subscribe({ url: herald.url, topics: "a", signal: controller.signal });
    await until(() => sub.state === "open", "open");
    const loop = (async () => {
      const seen: unknown[] = [];
      for await (const m of sub) seen.push(m.data);
      return seen;
    })();
    const { id } = await publish({ url: herald.url, topic: "a", data: 1 });
    await until(() => sub.lastEventId === id, "the event");
    controller.abort();
    assert.deepEqual(await loop, [1]);
    assert.equal(await sub.closed, undefined);
    await until(() => herald.connections.size === 0, "the server to see the stream closed");
  });

  test("lastEventId resumes after that id: the hub replays what followed", async () => {
    const herald = await start(0);
    const ids = await publishTicks(herald.url, "r", [1, 2, 3]);
    const seen: number[] = [];
    const sub = subscribe<Tick>({
      url: herald.url,
      topics: "r",
      lastEventId: ids[0],
      onEvent: (m) => seen.push(m.data.n),
    });
    await until(() => seen.length === 2, "the replay");
    assert.deepEqual(seen, [2, 3]);
    sub.close();
  });

  test("a server killed and restarted on the same port mid-stream: the client resumes with no gap and no duplicate", async () => {
    const bus = new SurvivingBus();
    let herald: Herald = await start(0, bus, { retryMs: 100 }); // Herald's smallest, the SDK's floor
    const port = portOf(herald);
    const seen: number[] = [];
    const states: StateChange[] = [];
    const missed: MissedInfo[] = [];
    const sub = subscribe<Tick>({
      url: herald.url,
      topics: "t",
      initialDelayMs: 60_000, // the server's retry: (100 ms) must win
      onEvent: (m) => seen.push(m.data.n),
      onStateChange: (s) => states.push(s),
      onMissed: (m) => missed.push(m),
    });
    await until(() => sub.state === "open", "open");
    await publishTicks(herald.url, "t", [1, 2, 3]);
    await until(() => seen.length === 3, "events 1-3");

    await herald.close(); // every stream is cut
    await until(() => sub.state === "reconnecting", "the client to notice");
    await bus.append([4, 5, 6].map((n) => ({ topics: ["t"], data: JSON.stringify({ n }) }))); // while it is down
    herald = await start(port, bus, { retryMs: 100 });
    await until(() => seen.length >= 6, "the replay of 4-6");
    await publishTicks(herald.url, "t", [7, 8]);
    await until(() => seen.length >= 8, "live events 7-8");

    assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(missed, []);
    const reconnecting = states.find((s) => s.state === "reconnecting");
    assert.ok(
      reconnecting !== undefined && reconnecting.delayMs! <= 100,
      "the server's retry: is the base delay",
    );
    assert.deepEqual(
      states.map((s) => s.state).filter((s, i, all) => s !== all[i - 1]),
      ["connecting", "open", "reconnecting", "open"],
    );
    sub.close();
  });

  test("a live-only subscriber that drops before its first event resumes from where it stood (Last-Event-ID response header)", async () => {
    const bus = new SurvivingBus();
    let herald: Herald = await start(0, bus, { retryMs: 50 });
    const port = portOf(herald);
    await publishTicks(herald.url, "other", [0]); // the hub's newest event, on a topic we do not read
    const seen: number[] = [];
    const sub = subscribe<Tick>({ url: herald.url, topics: "quiet", onEvent: (m) => seen.push(m.data.n) });
    await until(() => sub.state === "open", "open");
    assert.notEqual(sub.lastEventId, undefined, "the client knows where it stands");
    await herald.close();
    await bus.append([{ topics: ["quiet"], data: '{"n":1}' }]);
    herald = await start(port, bus, { retryMs: 50 });
    await until(() => seen.length === 1, "the event published while down");
    assert.deepEqual(seen, [1]);
    sub.close();
  });

  test("a restart that lost the history: herald.missed is surfaced, then the stream goes on", async () => {
    let herald: Herald = await start(0, undefined, { retryMs: 50 });
    const port = portOf(herald);
    const seen: number[] = [];
    const missed: MissedInfo[] = [];
    const sub = subscribe<Tick>({
      url: herald.url,
      topics: "t",
      onEvent: (m) => seen.push(m.data.n),
      onMissed: (m) => missed.push(m),
    });
    await until(() => sub.state === "open", "open");
    const [firstId] = await publishTicks(herald.url, "t", [1]);
    await until(() => seen.length === 1, "event 1");
    await herald.close();
    herald = await start(port, undefined, { retryMs: 50 }); // a new memory bus: a new epoch
    await until(() => missed.length === 1, "herald.missed");
    assert.equal(missed[0]!.lastEventId, firstId);
    assert.equal(missed[0]!.reason, "epoch-changed");
    assert.equal(sub.lastEventId, missed[0]!.resumeId, "the client continues from the hub's head");
    await until(() => sub.state === "open", "open again");
    await publishTicks(herald.url, "t", [2]);
    await until(() => seen.length === 2, "event 2");
    assert.deepEqual(seen, [1, 2]);
    sub.close();
  });

  test("the eventsource transport (here the eventsource package) resumes across a restart too", async () => {
    const bus = new SurvivingBus();
    let herald: Herald = await start(0, bus, { retryMs: 50 });
    const port = portOf(herald);
    const seen: number[] = [];
    const sub = subscribe<Tick>({
      url: herald.url,
      topics: "es",
      EventSource,
      initialDelayMs: 50,
      onEvent: (m) => seen.push(m.data.n),
    });
    await until(() => sub.state === "open", "open");
    await publishTicks(herald.url, "es", [1, 2]);
    await until(() => seen.length === 2, "1-2");
    await herald.close();
    await bus.append([{ topics: ["es"], data: '{"n":3}' }]);
    herald = await start(port, bus, { retryMs: 50 });
    await until(() => seen.length === 3, "the replay of 3");
    await publishTicks(herald.url, "es", [4]);
    await until(() => seen.length === 4, "4");
    assert.deepEqual(seen, [1, 2, 3, 4]);
    sub.close();
  });

  test("an iterator that reads slowly: the SDK holds bufferSize events, the hub cuts it off, it resumes: all arrive, in order", async () => {
    const herald = await start(0, undefined, { maxBufferedBytes: 16 * 1024, retryMs: 20 });
    const sub = subscribe<Tick>({ url: herald.url, topics: "flood", bufferSize: 10, initialDelayMs: 20 });
    closeLater(async () => sub.close()); // a failed assertion must not leave it reconnecting
    await until(() => sub.state === "open", "open");
    // The hub writes straight to the socket, so the kernel's socket buffers (up to tcp_rmem + tcp_wmem
    // maxima; autotuning grows them to a few MB here) fill before Node's own buffer passes maxBufferedBytes.
    const total = 4000;
    const pad = "p".repeat(4000);
    for (let i = 0; i < total; i += 100) {
      const batch = Array.from({ length: 100 }, (_, k) => ({
        topics: ["flood"],
        data: JSON.stringify({ n: i + k, note: pad }),
      }));
      await herald.hub.publish(batch);
    }
    const seen: number[] = [];
    for await (const m of sub) {
      seen.push(m.data.n);
      if (seen.length === total) break;
    }
    assert.deepEqual(
      seen,
      Array.from({ length: total }, (_, n) => n),
    );
    assert.ok(herald.hub.counters.slowDisconnects >= 1, "the hub cut the reader off at least once");
  });

  test("a 400 answer closes the subscription for good with Herald's message; the iterator throws it", async () => {
    const herald = await start(0, undefined, { maxTopicLength: 8 });
    const errors: Error[] = [];
    const sub = subscribe({ url: herald.url, topics: "much-too-long-topic", onError: (e) => errors.push(e) });
    await assert.rejects(
      async () => {
        for await (const _ of sub) assert.fail("no event expected");
      },
      (error: Error & { status?: number }) => error.status === 400 && /limit is 8/.test(error.message),
    );
    assert.equal(errors.length, 1);
    assert.equal(sub.state, "closed");
  });

  test("the eventsource transport, which cannot read a status, asks once with fetch and ends on a 400 too", async () => {
    const herald = await start(0, undefined, { maxTopicLength: 8 });
    const sub = subscribe({ url: herald.url, topics: "much-too-long-topic", EventSource, onEvent: () => {} });
    const error = (await sub.closed) as Error & { status?: number };
    assert.equal(error.status, 400);
    assert.match(error.message, /limit is 8/);
  });

  test("publish() answers the id and queued count; a bad publish rejects with status and message", async () => {
    const herald = await start(0);
    const sub = subscribe({ url: herald.url, topics: "p" });
    await until(() => sub.state === "open", "open");
    const answer = await publish({ url: herald.url, topic: "p", data: "x", id: "my-id-1" });
    assert.deepEqual(answer, { id: "my-id-1", queued: 1 });
    await assert.rejects(
      publish({ url: herald.url, topic: "p", data: "x", event: "bad\ntype" }),
      (error: Error & { status?: number; code?: string }) =>
        error.status === 400 && error.code === "bad_request" && /CR, LF or NUL/.test(error.message),
    );
    sub.close();
  });
});
