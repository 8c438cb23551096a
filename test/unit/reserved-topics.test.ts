import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isReservedTopic } from "../../packages/herald/src/api/reserved-topics.ts";
import { prng } from "../helpers/prng.ts";

/** The spec's rule ("Publication") with the URL parser on every topic, against either hub scheme. */
function reservedByParser(topic: string): boolean {
  return ["http", "https"].some((scheme) => {
    const hub = `${scheme}://hub.invalid/.well-known/mercure`;
    try {
      const url = new URL(topic, hub);
      if (url.protocol !== "http:" && url.protocol !== "https:") return false; // not a path of the hub's
      let path = url.pathname;
      const decoded = path.replace(/%([0-9A-Fa-f]{2})/g, (encoded, hex: string) => {
        const c = String.fromCharCode(Number.parseInt(hex, 16));
        return /[A-Za-z0-9\-._~]/.test(c) ? c : encoded;
      });
      if (decoded !== path) path = new URL(decoded, hub).pathname; // dot segments the decoding formed
      return path === "/.well-known/mercure" || path.startsWith("/.well-known/mercure/");
    } catch {
      return false;
    }
  });
}

describe("reserved topics: resolved against the hub's URL", () => {
  it("refuses what resolves into /.well-known/mercure, relative and empty topics included", () => {
    for (const topic of [
      "",
      "?x",
      "#x",
      " ?x",
      "mercure",
      "mercure/subscriptions/exact/a/b",
      "./mercure/x",
      "a/../mercure",
      "http:mercure",
      "HTTPS:mercure/x",
      "http:",
      "/.well-known/mercure",
      "https://x.example/.well-known/%6Dercure/a",
      "/.well-known/mercure/../mercure/x",
    ]) {
      assert.equal(isReservedTopic(topic), true, JSON.stringify(topic));
    }
    for (const topic of [
      "news",
      "mercurex",
      "/mercure/x",
      "subscriptions/a",
      "urn:mercure",
      "urn:mercure\\ ? ", // an opaque path with a space: Node 24's parser encodes it (%20)
      "urn:%6Dercure",
      "https://a/mercure",
    ]) {
      assert.equal(isReservedTopic(topic), false, JSON.stringify(topic));
    }
  });

  it("agrees with the URL parser on every topic (its fast path skips the parser)", () => {
    const seed = Number(process.env.HERALD_FUZZ_SEED ?? Date.now() % 1_000_000);
    const random = prng(seed);
    const parts = [
      "mercure",
      "well",
      "-known",
      ".",
      "..",
      "/",
      "\\",
      "?",
      "#",
      "%6D",
      "%2e",
      " ",
      "\t",
      "a",
      ":",
    ];
    const prefixes = ["", "http:", "https:", "HTTP:", "//h", "/", "urn:", " ", "x:"];
    for (let i = 0; i < 20_000; i++) {
      let topic = random.pick(prefixes);
      for (let n = random.int(6); n > 0; n--) topic += random.pick(parts);
      assert.equal(
        isReservedTopic(topic),
        reservedByParser(topic),
        `${JSON.stringify(topic)} (seed ${seed})`,
      );
    }
  });
});
