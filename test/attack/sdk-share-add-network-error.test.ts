import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page, Route } from "playwright-core";
import { publish } from "../../packages/herald-client/src/index.ts";
import { browserSkip, launchChromium } from "../helpers/browser.ts";
import { type HeraldProcess, spawnHerald, stopHerald } from "../helpers/process.ts";

/**
 * Promise (docs/client.md): "Network errors, 5xx and stream ends are retried forever until
 * `close()`"; for `share`: "A topic the hub refuses to add (a bad topic, more than
 * `HERALD_MAX_TOPICS` in the union) ends the subscriptions that asked for it with Herald's error;
 * the others go on"; and "Changing topics": "A request that got no answer (the network) or a 5xx
 * rejects too ...; since the hub may have applied it or not, the SDK then reconnects, and the new
 * stream asks for `currentTopics`".
 *
 * Found in an attack round (2026-12-03): when a tab joins a shared stream with a topic the stream
 * lacks, the host adds it (`POST /streams/{id}/topics`). If that request gets no answer (a network
 * blip), `StreamHost.join` treats the rejection like the hub's refusal (`refuse`): the topic is
 * dropped from the stream and the joining tab's subscription ENDS, for good (`onError`, state
 * `closed`) with "Failed to fetch" (status 0), a valid topic on a healthy hub. A stream of its own
 * would have reconnected and gone on.
 *
 * The network fault is injected with Playwright's request routing (the leader tab's request is
 * aborted as a failed connection, once); Herald is a real process.
 */
const skip = browserSkip;
if (skip) console.log(`# ${skip}`);

const join = (tab: Page, topics: readonly string[]) =>
  tab.evaluate(`(async () => {
    const sdk = await import(location.origin + "/herald-client.js");
    window.got = [];
    await new Promise((opened) => {
      window.sub = sdk.subscribe({
        url: "/",
        topics: ${JSON.stringify(topics)},
        share: { worker: false },
        initialDelayMs: 100,
        maxDelayMs: 300,
        onEvent: (m) => window.got.push(m.text),
        onError: (e) => { window.ended = e.message; },
        onStateChange: (c) => { if (c.state === "open") opened(); },
      });
    });
  })()`);

describe("attack: share: a network error while a tab's topic is added ends that tab", { skip }, () => {
  let browser: Browser | undefined;
  let herald: HeraldProcess | undefined;
  before(async () => {
    herald = await spawnHerald([], { HERALD_RETRY: "100ms" });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    if (herald !== undefined) await stopHerald(herald);
  });

  test("BroadcastChannel: the add of b fails once in the network; the tab on b still gets b's events", async () => {
    const url = (herald as HeraldProcess).url;
    const context = await (browser as Browser).newContext();
    try {
      const leader = await context.newPage();
      const other = await context.newPage();
      for (const tab of [leader, other]) {
        tab.setDefaultTimeout(15_000);
        await tab.goto(`${url}/health`);
      }
      await join(leader, ["a"]);
      let failed = 0;
      await context.route(/\/streams\/[^/]+\/topics$/, (route: Route) => {
        if (failed++ === 0) return route.abort("connectionfailed");
        return route.continue();
      });
      await join(other, ["b"]);
      for (let i = 0; ; i++) {
        await publish({ url, topic: "b", data: `b${i}` });
        const got = await other.evaluate(() => (window as unknown as { got: string[] }).got);
        if (got.length > 0) break;
        const ended = await other.evaluate(() => (window as unknown as { ended?: string }).ended);
        assert.equal(ended, undefined, "a network error is retried: the tab on b is not ended");
        assert.ok(i < 150, "the tab on b gets b's events");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(failed >= 1, "the fault was injected");
    } finally {
      await context.close();
    }
  });
});
