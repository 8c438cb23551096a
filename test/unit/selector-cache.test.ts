import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  SELECTOR_CACHE_BYTES,
  selectorCacheBytes,
  selectorsOf,
} from "../../packages/herald/src/access/selector-cache.ts";

describe("selector cache of GET /events", () => {
  it("shares one array per subscription, and stays within its byte bound whatever clients send", () => {
    const topics = ["news", "orders/*"];
    assert.equal(selectorsOf(topics), selectorsOf([...topics]), "same topics, same array");
    // 5,000 distinct subscriptions of 32 topics of 200 characters: ~64 MB of text if all were kept
    for (let s = 0; s < 5000; s++) {
      selectorsOf(
        Array.from({ length: 32 }, (_, k) => `${String(s).padStart(6, "0")}/${k}/${"x".repeat(190)}`),
      );
    }
    assert.ok(selectorCacheBytes() <= SELECTOR_CACHE_BYTES, `${selectorCacheBytes()} bytes held`);
    assert.equal(selectorsOf(topics), selectorsOf([...topics]), "still shared");
  });
});
