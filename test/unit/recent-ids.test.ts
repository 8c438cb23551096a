import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RecentIds } from "../../packages/herald-client/src/share/recent-ids.ts";
import { shown } from "../helpers/tab-shown.ts";

describe("share: a tab drops only what a new leader's resume sends it again", () => {
  it("a tab ahead of the new leader drops the replayed events it had, in order, then shows the rest", () => {
    const recent = new RecentIds();
    assert.deepEqual(shown(recent, ["a", "b", "c", "d", "@b", "c", "d", "e"]), ["a", "b", "c", "d", "e"]);
  });

  it("an id seen before is shown again outside a replay (another publisher reused it)", () => {
    const recent = new RecentIds();
    assert.deepEqual(shown(recent, ["x", "y", "x", "@y", "z", "x"]), ["x", "y", "x", "z", "x"]);
  });

  it("a replay that goes past what the tab had ends the dropping at once", () => {
    const recent = new RecentIds();
    // the tab had a, b, c; the new leader resumes after a: b is a repeat, then q is new, and c
    // (a reused id after it) is a new event too
    assert.deepEqual(shown(recent, ["a", "b", "c", "@a", "b", "q", "c"]), ["a", "b", "c", "q", "c"]);
  });

  it("a tab behind the new leader, or at its own last id, drops nothing", () => {
    const recent = new RecentIds();
    assert.deepEqual(shown(recent, ["a", "b", "@z", "c", "@c", "c"]), ["a", "b", "c", "c"]);
  });

  it("holds at most `capacity` ids", () => {
    const recent = new RecentIds(2);
    // "a" left the window: a resume after it drops nothing
    assert.deepEqual(shown(recent, ["a", "b", "c", "@a", "b", "c"]), ["a", "b", "c", "b", "c"]);
  });
});
