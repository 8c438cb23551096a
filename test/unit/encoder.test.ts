import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { concat } from "../../packages/herald/src/core/bytes.ts";
import {
  encodeComment,
  encodeEvent,
  encodeEventText,
  encodeRetry,
} from "../../packages/herald/src/core/encoder.ts";

/** Feeds bytes to a real WHATWG parser (eventsource-parser) after an opening comment, as Herald sends. */
function parse(...chunks: Uint8Array[]): {
  events: EventSourceMessage[];
  comments: string[];
  retries: number[];
} {
  const events: EventSourceMessage[] = [];
  const comments: string[] = [];
  const retries: number[] = [];
  const parser = createParser({
    onEvent: (e) => events.push(e),
    onComment: (c) => comments.push(c),
    onRetry: (r) => retries.push(r),
  });
  const decoder = new TextDecoder();
  parser.feed(": ok\n\n");
  for (const chunk of chunks) parser.feed(decoder.decode(chunk, { stream: true }));
  return { events, comments, retries };
}

describe("encodeEvent", () => {
  it("writes id, event, retry and data fields, ending with a blank line", () => {
    assert.equal(
      encodeEventText({ id: "7", type: "price", retry: 1500, data: "hello" }),
      "id: 7\nevent: price\nretry: 1500\ndata: hello\n\n",
    );
    assert.equal(encodeEventText({ data: "x" }), "data: x\n\n");
  });

  it("splits LF, CR and CRLF into data lines that a parser joins back with LF", () => {
    const text = "a\nb\rc\r\nd";
    assert.equal(encodeEventText({ data: text }), "data: a\ndata: b\ndata: c\ndata: d\n\n");
    assert.equal(parse(encodeEvent({ id: "1", data: text })).events[0]?.data, "a\nb\nc\nd");
  });

  it("keeps leading spaces, colons, empty lines and trailing breaks exactly", () => {
    for (const text of [
      " lead",
      "  two",
      ":colon",
      "a\n\nb",
      "end\n",
      "\n",
      "",
      "tab\tx",
      "data: fake\nid: 9",
    ]) {
      // Empty data is still one `data:` line, so the event is dispatched with data "".
      const { events } = parse(encodeEvent({ id: "1", data: text }));
      assert.equal(events[0]?.data, text.replace(/\r\n|\r/g, "\n"), JSON.stringify(text));
      assert.equal(events[0]?.id, "1");
    }
  });

  it("keeps a U+FEFF at the start of data (only the stream's first BOM is stripped)", () => {
    const { events } = parse(encodeEvent({ id: "1", data: "\uFEFFbom" }));
    assert.equal(events[0]?.data, "\uFEFFbom");
  });

  it("keeps multibyte text across chunk splits", () => {
    const bytes = encodeEvent({ id: "1", data: "€ 😀 ü" });
    const { events } = parse(bytes.subarray(0, 9), bytes.subarray(9, 10), bytes.subarray(10));
    assert.equal(events[0]?.data, "€ 😀 ü");
  });

  it("encodes comments on one line and the retry hint", () => {
    assert.equal(new TextDecoder().decode(encodeComment("a\r\nb")), ": a b\n\n");
    assert.deepEqual(
      parse(encodeComment("hb")).comments.map((c) => c.trim()),
      ["ok", "hb"],
    );
    assert.deepEqual(parse(encodeRetry(2500)).retries, [2500]);
  });
});

describe("encoded events share slabs, and their bytes never change", () => {
  it("keeps each event's bytes as encoded while later events fill one slab after another; one batch of neighbours is one view", () => {
    const decoder = new TextDecoder();
    const events = Array.from({ length: 2000 }, (_, i) => ({
      id: `e-${i}`,
      data: `{"n":${i},"text":"${"é€𝄞".repeat(i % 7)}${"x".repeat(i % 300)}"}`,
    }));
    const bytes = events.map((e) => encodeEvent(e));
    // 2,000 events of up to ~350 bytes fill several 64 KiB slabs
    assert.ok(new Set(bytes.map((b) => b.buffer)).size > 3, "several slabs");
    for (let i = 0; i < events.length; i++) {
      assert.equal(decoder.decode(bytes[i]), encodeEventText(events[i]!), `event ${i} unchanged`);
    }
    // neighbours in one slab: their batch is a view of it, with the same bytes as a copy would have
    const [a, b, c] = [bytes[10]!, bytes[11]!, bytes[12]!];
    assert.equal(a.buffer, c.buffer);
    const batch = concat([a, b, c]);
    assert.equal(batch.buffer, a.buffer, "no copy");
    assert.equal(decoder.decode(batch), decoder.decode(a) + decoder.decode(b) + decoder.decode(c));
    // not neighbours: a copy
    const apart = concat([a, c]);
    assert.notEqual(apart.buffer, a.buffer);
    assert.equal(decoder.decode(apart), decoder.decode(a) + decoder.decode(c));
    // a large event has its own buffer
    const large = encodeEvent({ id: "big", data: "L".repeat(100_000) });
    assert.equal(large.byteOffset, 0);
    assert.equal(large.buffer.byteLength, large.length);
  });
});
