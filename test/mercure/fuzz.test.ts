import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest } from "../helpers/herald.ts";
import { prng } from "../helpers/prng.ts";
import { HUB, listen, type MercureListener, mercureToken, published, startMercureHerald } from "./helpers.ts";

const SEED = Number(process.env.HERALD_FUZZ_SEED ?? 7);
const CASES = 300;

describe("Mercure routes under random input", () => {
  let herald: Herald;
  let watcher: MercureListener;
  let publisher: string;

  before(async () => {
    // A short shutdown wait: fetch may leave a pre-opened socket with no request on it, which
    // server.close() would otherwise wait for until the headers timeout.
    herald = await startMercureHerald({ mercureSubscriptions: true, shutdownTimeoutMs: 300 });
    publisher = await mercureToken({ publish: ["*"] });
    watcher = await listen(herald.url, [["topic", "watch/{n}"]]);
  });
  after(async () => {
    watcher.close();
    await herald.close();
  });

  it(`answers ${CASES} random requests without a 5xx, and keeps serving (seed ${SEED})`, async () => {
    const rand = prng(SEED);
    const statuses = new Map<number, number>();
    for (let i = 0; i < CASES; i++) {
      const kind = rand.int(4);
      let answer: { status: number; text: string };
      if (kind === 0) {
        // Subscribe with odd selectors / ids / tokens; abort the stream if it opens.
        const urlPatternish = () =>
          Array.from({ length: rand.int(12) }, () =>
            rand.pick([
              "https://x/",
              ":id",
              "*",
              "(\\d+)",
              "((?:a+)+b)",
              "{",
              "}?",
              "/",
              "+",
              "\\:",
              "(",
              "a{999}",
            ]),
          ).join("");
        const name = rand.pick(["topic", "match", "match_urlpattern", "match_URLPattern"]);
        const query = [
          `${name}=${rand.pick([rand.percent(rand.int(12)), encodeURIComponent(name === "topic" ? rand.templateish(rand.int(30)) : urlPatternish()), ""])}`,
          rand.next() < 0.3 ? `lastEventID=${rand.percent(8)}` : "",
          rand.next() < 0.2 ? `authorization=${rand.percent(10)}` : "",
          rand.next() < 0.2 ? "topic=*" : "",
        ].join("&");
        const controller = new AbortController();
        const response = await fetch(`${herald.url}${HUB}?${query}`, { signal: controller.signal });
        answer = { status: response.status, text: response.status === 200 ? "" : await response.text() };
        controller.abort();
      } else if (kind === 1) {
        const fields = Array.from(
          { length: rand.int(6) },
          () =>
            `${rand.pick(["topic", "data", "id", "type", "retry", "private", "x"])}=${rand.pick([rand.percent(rand.int(20)), rand.templateish(8), "#1", "-1", ""])}`,
        ).join("&");
        answer = await httpRequest(`${herald.url}${HUB}`, {
          method: "POST",
          headers: {
            authorization: rand.next() < 0.8 ? `Bearer ${publisher}` : `Bearer ${rand.percent(4)}`,
            "content-type": rand.pick([
              "application/x-www-form-urlencoded",
              "text/plain",
              "application/json",
            ]),
          },
          body: fields,
        });
      } else if (kind === 2) {
        answer = await httpRequest(
          `${herald.url}${HUB}/subscriptions/${rand.percent(rand.int(10))}/${rand.templateish(rand.int(6))}`,
        );
      } else {
        answer = await httpRequest(`${herald.url}${HUB}${rand.pick(["", "/", "/x", "/subscriptions"])}`, {
          method: rand.pick(["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
        });
      }
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      assert.ok(answer.status < 500, `request ${i} (kind ${kind}) answered ${answer.status}: ${answer.text}`);
    }
    // Still serving: the watcher, connected all along, gets a new update.
    await published(herald.url, publisher, [
      ["topic", "watch/1"],
      ["data", "still here"],
    ]);
    await watcher.receives("still here");
    assert.ok(statuses.size > 2, `varied answers: ${JSON.stringify([...statuses])}`);
    // Aborted streams leave nothing behind: only the watcher's stream stays counted.
    await watcher.until(
      () => herald.streamLimits.open === 1 && herald.mercure.context.connections.size === 1,
      5000,
      "streams released",
    );
  });
});
