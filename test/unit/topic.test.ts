import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { anySelectorMatches, parseSelector, selectorMatches } from "../../packages/herald/src/core/topic.ts";

describe("topic selectors", () => {
  it("matches exact topics byte for byte", () => {
    const s = parseSelector("news");
    assert.equal(selectorMatches(s, "news"), true);
    assert.equal(selectorMatches(s, "News"), false);
    assert.equal(selectorMatches(s, "news/1"), false);
  });

  it("matches everything with *", () => {
    assert.equal(selectorMatches(parseSelector("*"), "anything/at/all"), true);
  });

  it("matches prefixes ending in /*, :* or .*", () => {
    const s = parseSelector("orders/*");
    assert.equal(selectorMatches(s, "orders/1"), true);
    assert.equal(selectorMatches(s, "orders/eu/2"), true);
    assert.equal(selectorMatches(s, "orders"), false);
    assert.equal(selectorMatches(s, "ordersX"), false);
    assert.equal(selectorMatches(parseSelector("a.*"), "a.b"), true);
    assert.equal(selectorMatches(parseSelector("a:*"), "a:b"), true);
    assert.deepEqual(parseSelector("a*"), { kind: "exact", topic: "a*" });
  });

  it("matches when any topic of an event matches any selector", () => {
    const selectors = [parseSelector("a"), parseSelector("b/*")];
    assert.equal(anySelectorMatches(selectors, ["x", "b/1"]), true);
    assert.equal(anySelectorMatches(selectors, ["x", "y"]), false);
  });
});
