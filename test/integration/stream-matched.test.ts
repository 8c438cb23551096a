import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, publish, RawStream, startTestHerald } from "../helpers/herald.ts";
import { RecordingClient } from "../helpers/sse-client.ts";
import { postJson } from "../helpers/stream-control.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";

const OPENING = /event: herald\.stream\ndata: (\{.*\})\n\n/;

/** The event blocks of a stream's text (comment-only blocks included), without the opening. */
function blocks(text: string): string[] {
  return text
    .split("\n\n")
    .filter(
      (b) => b !== "" && !b.startsWith(": ok") && !b.startsWith("retry:") && !b.includes("herald.stream"),
    );
}

/** `: matched` line + data of each event block; `: topics` blocks as they are. */
function tagged(text: string): string[] {
  return blocks(text).map((block) => {
    const lines = block.split("\n");
    if (lines[0]?.startsWith(": topics ")) return lines[0];
    const matched = lines.find((l) => l.startsWith(": matched")) ?? "(none)";
    const data = lines.find((l) => l.startsWith("data: "))?.slice(6);
    assert.ok(lines[0] === matched || matched === "(none)", `the matched line comes first: ${block}`);
    return `${matched} ${data}`;
  });
}

/** The stream's text without comment lines: what every other stream of its topics gets. */
const withoutComments = (text: string) =>
  blocks(text)
    .map((b) =>
      b
        .split("\n")
        .filter((l) => !l.startsWith(":"))
        .join("\n"),
    )
    .filter((b) => b !== "");

describe("GET /events?matched=1: each event names the selectors that matched it", () => {
  let herald: Herald;
  const closers: (() => void)[] = [];
  before(async () => {
    herald = await startTestHerald({ jwtSecret: TEST_SECRET });
  });
  after(async () => {
    for (const close of closers) close();
    await herald.close();
  });
  const raw = (path: string, headers: Record<string, string> = {}) => {
    const stream = new RawStream(`${herald.url}${path}`, headers);
    closers.push(() => stream.close());
    return stream;
  };
  const opened = async (stream: RawStream) => {
    await stream.until(() => OPENING.test(stream.text));
    return JSON.parse((OPENING.exec(stream.text) as RegExpExecArray)[1] as string) as {
      id: string;
      topics: string[];
    };
  };
  const send = async (topics: string[], data: string, extra: Record<string, unknown> = {}) => {
    const answer = await publish(herald.url, { topic: topics, data, id: data, ...extra });
    assert.equal(answer.status, 200, answer.text);
  };

  it("refuses matched without announce=1, or with another value, saying how to fix it", async () => {
    for (const [query, fix] of [
      ["topic=a&matched=1", /announce=1/],
      ["topic=a&announce=1&matched=yes", /matched takes 1/],
    ] as const) {
      const answer = await httpRequest(`${herald.url}/events?${query}`);
      assert.equal(answer.status, 400, query);
      assert.match(String((answer.body as { message: string }).message), fix);
    }
  });

  it("tags live events with indices into the announced list; the events themselves are what other streams get", async () => {
    const stream = raw("/events?announce=1&matched=1&topic=a&topic=b/*&topic=c");
    const plain = raw("/events?topic=a&topic=b/*&topic=c");
    const other = new RecordingClient(`${herald.url}/events?announce=1&matched=1&topic=a&topic=b/*&topic=c`);
    closers.push(() => other.close());
    assert.deepEqual((await opened(stream)).topics, ["a", "b/*", "c"]);
    await plain.opened();
    await other.opened();
    await send(["a"], "L1");
    await send(["b/1"], "L2");
    await send(["c", "a"], "L3");
    await send(["x"], "L4"); // none of its topics: not sent
    await send(["b/2", "c"], "L5", { event: "tick" });
    await stream.until(() => stream.text.includes("L5"));
    await plain.until(() => plain.text.includes("L5"));
    assert.deepEqual(tagged(stream.text), [
      ": matched 0 L1",
      ": matched 1 L2",
      ": matched 0 2 L3",
      ": matched 1 2 L5",
    ]);
    assert.deepEqual(withoutComments(stream.text), withoutComments(plain.text), "same event bytes");
    // a third-party client reads the same events, the comment lines ignored
    await other.until(() => other.events.length === 3);
    assert.deepEqual(
      other.events.map((e) => `${e.id}:${e.data}`),
      ["L1:L1", "L2:L2", "L3:L3"],
    );
    assert.doesNotMatch(plain.text, /matched/, "a stream that did not ask gets no tag");
  });

  it("after a live change, says the new list, and the indices follow it", async () => {
    const stream = raw("/events?announce=1&matched=1&topic=a&topic=b/*&topic=c");
    const { id } = await opened(stream);
    await send(["c"], "C1");
    await stream.until(() => stream.text.includes("C1"));
    const change = await postJson(`${herald.url}/streams/${id}/topics`, { remove: ["a"], add: ["d", "a"] });
    assert.equal(change.status, 400, "add and remove of one topic is refused");
    const changed = await postJson(`${herald.url}/streams/${id}/topics`, { remove: ["a"], add: ["d"] });
    assert.deepEqual(changed.body.topics, ["b/*", "c", "d"]);
    await send(["c", "a"], "C2");
    await send(["d"], "C3");
    await send(["a"], "C4"); // removed: not sent
    await send(["b/x", "d"], "C5");
    const more = await postJson(`${herald.url}/streams/${id}/topics`, { add: ["a"] });
    assert.deepEqual(more.body.topics, ["b/*", "c", "d", "a"]);
    await send(["a", "c"], "C6");
    await stream.until(() => stream.text.includes("C6"));
    assert.deepEqual(tagged(stream.text), [
      ": matched 2 C1",
      ': topics ["b/*","c","d"]',
      ": matched 1 C2",
      ": matched 2 C3",
      ": matched 0 2 C5",
      ': topics ["b/*","c","d","a"]',
      ": matched 1 3 C6",
    ]);
  });

  it("private events: tagged only when the stream may read them, with every selector that matched", async () => {
    const token = await heraldToken({ subscribe: ["p"] });
    const stream = raw("/events?announce=1&matched=1&topic=q&topic=x&topic=p", bearer(token));
    const anonymous = raw("/events?announce=1&matched=1&topic=q&topic=x&topic=p");
    await opened(stream);
    await opened(anonymous);
    await send(["p"], "P1", { private: true });
    await send(["q"], "P2", { private: true }); // the token grants p only: not sent
    await send(["q", "p"], "P3", { private: true }); // readable (p), and q matched it too
    await send(["x"], "P4");
    await stream.until(() => stream.text.includes("P4"));
    await anonymous.until(() => anonymous.text.includes("P4"));
    assert.deepEqual(tagged(stream.text), [": matched 2 P1", ": matched 0 2 P3", ": matched 1 P4"]);
    assert.deepEqual(tagged(anonymous.text), [": matched 1 P4"], "no private event, no tag of one");
  });

  it("tags a replay (Last-Event-ID) and the hub's own herald.missed carries no tag", async () => {
    await send(["r1"], "R1");
    await send(["r2"], "R2");
    await send(["r1", "r2"], "R3");
    const stream = raw("/events?announce=1&matched=1&topic=r2&topic=r1", { "last-event-id": "R1" });
    const eventsource = new RecordingClient(
      `${herald.url}/events?announce=1&matched=1&topic=r2&topic=r1`,
      ["message"],
      { "last-event-id": "R1" },
    );
    closers.push(() => eventsource.close());
    await stream.until(() => stream.text.includes("R3"));
    await send(["r1"], "R4");
    await stream.until(() => stream.text.includes("R4"));
    assert.deepEqual(tagged(stream.text), [": matched 0 R2", ": matched 0 1 R3", ": matched 1 R4"]);
    await eventsource.until(() => eventsource.events.length === 3);
    assert.deepEqual(eventsource.datas(), ["R2", "R3", "R4"]);
    const lost = raw("/events?announce=1&matched=1&topic=r1", { "last-event-id": "no-such-id" });
    await lost.until(() => lost.text.includes("herald.missed"));
    assert.doesNotMatch(lost.text, /: matched/);
  });
});
