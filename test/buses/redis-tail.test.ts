import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { streamIdToPos } from "../../packages/herald/src/buses/redis-log.ts";
import { checkRead, type StreamRead } from "../../packages/herald/src/buses/redis-tail.ts";

/** The Redis tail's gap check (src/buses/redis-tail.ts) on the counters Redis answers. */

const entry = (id: string): [string, string[]] => [id, ["topic", "t", "data", id]];
const read = (over: Partial<StreamRead>): StreamRead => ({
  epoch: "e",
  entries: [],
  lastGenerated: "0-0",
  added: 0,
  length: 0,
  maxDeleted: "0-0",
  first: undefined,
  replid: "r",
  promoted: false,
  replicas: 0,
  ...over,
});
const pos = (id: string) => streamIdToPos(id) as number;

describe("Redis tail: entries deleted before they were read", () => {
  it("nothing deleted after the last read entry: no gap, the ordinal follows", () => {
    const check = checkRead(
      { lastId: "10-0", ordinal: 5 },
      read({
        entries: [entry("11-0"), entry("12-0")],
        first: "1-0",
        added: 7,
        length: 7,
        lastGenerated: "12-0",
      }),
    );
    assert.deepEqual(check, { next: { lastId: "12-0", ordinal: 7 } });
    const midway = checkRead(
      { lastId: "10-0", ordinal: 5 },
      read({
        entries: [entry("11-0"), entry("12-0")],
        first: "1-0",
        added: 15,
        length: 15,
        lastGenerated: "20-0",
      }),
    );
    assert.deepEqual(midway, { next: { lastId: "12-0", ordinal: 7 } });
  });

  it("the oldest entries trimmed past the last read one: a gap before the first held, counted", () => {
    const check = checkRead(
      { lastId: "10-0", ordinal: 5 },
      read({
        entries: [entry("20-0"), entry("21-0")],
        first: "20-0",
        added: 10,
        length: 2,
        lastGenerated: "21-0",
      }),
    );
    assert.deepEqual(check, {
      next: { lastId: "21-0", ordinal: 10 },
      lost: { pos: pos("20-0") - 1, count: 3 },
    });
  });

  it("trimmed exactly up to the last read entry: nothing lost", () => {
    const check = checkRead(
      { lastId: "10-0", ordinal: 5 },
      read({ entries: [entry("11-0")], first: "11-0", added: 6, length: 1, lastGenerated: "11-0" }),
    );
    assert.deepEqual(check, { next: { lastId: "11-0", ordinal: 6 } });
  });

  it("without an ordinal (Redis before 7.0) a trim past the last read entry counts as a gap", () => {
    const check = checkRead(
      { lastId: "10-0", ordinal: undefined },
      read({ entries: [entry("11-0")], first: "11-0", added: undefined, length: 1, lastGenerated: "11-0" }),
    );
    assert.deepEqual(check.lost, { pos: pos("11-0") - 1 });
  });

  it("an XDEL after the last read entry: a gap up to the deleted id", () => {
    const check = checkRead(
      { lastId: "10-0", ordinal: 5 },
      read({
        entries: [entry("11-0"), entry("13-0")],
        first: "1-0",
        added: 8,
        length: 7,
        maxDeleted: "12-0",
        lastGenerated: "13-0",
      }),
    );
    assert.deepEqual(check, { next: { lastId: "13-0", ordinal: 8 }, lost: { pos: pos("12-0") } });
  });

  it("an XDEL of an entry already read: no gap", () => {
    const check = checkRead(
      { lastId: "10-0", ordinal: 5 },
      read({ entries: [], first: "1-0", added: 5, length: 4, maxDeleted: "9-0", lastGenerated: "10-0" }),
    );
    assert.deepEqual(check, { next: { lastId: "10-0", ordinal: 5 } });
  });

  it("an empty stream that grew after the last read entry: a gap up to its newest id", () => {
    const check = checkRead(
      { lastId: "10-0", ordinal: 5 },
      read({ added: 8, length: 0, lastGenerated: "13-0" }),
    );
    assert.deepEqual(check, { next: { lastId: "13-0", ordinal: 8 }, lost: { pos: pos("13-0"), count: 3 } });
    const idle = checkRead(
      { lastId: "13-0", ordinal: 8 },
      read({ added: 8, length: 0, lastGenerated: "13-0" }),
    );
    assert.deepEqual(idle, { next: { lastId: "13-0", ordinal: 8 } });
  });

  it("a stream deleted and made again (fewer entries ever added than were read): a gap", () => {
    const check = checkRead(
      { lastId: "10-0", ordinal: 500 },
      read({ entries: [entry("50-0")], first: "50-0", added: 1, length: 1, lastGenerated: "50-0" }),
    );
    assert.deepEqual(check, { next: { lastId: "50-0", ordinal: 1 }, lost: { pos: pos("50-0") - 1 } });
  });
});
