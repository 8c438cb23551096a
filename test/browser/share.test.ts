import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { publish } from "../../packages/herald-client/src/index.ts";
import { browserSkip, launchChromium } from "../helpers/browser.ts";
import { type HeraldProcess, spawnHerald, stopHerald } from "../helpers/process.ts";
import { eventually } from "../helpers/waiters.ts";

/**
 * `subscribe({share})` in Chromium against the real `herald` (dist/): tabs of one origin over
 * HTTP/1.1 share one stream, each gets every event of its topics, and closing the tab that
 * started the stream loses and repeats nothing.
 */
const skip = browserSkip;
if (skip) console.log(`# ${skip}`);

const TABS = 8;

const texts = (page: Page) =>
  page.$$eval("#messages .message .text", (els) => els.map((el) => el.textContent ?? "").reverse());

describe("one stream per browser (share) in Chromium", { skip }, () => {
  let browser: Browser | undefined;
  let herald: HeraldProcess | undefined;
  const errors: Error[] = [];

  before(async () => {
    herald = await spawnHerald([], { HERALD_RETRY: "200ms" });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    if (herald !== undefined) await stopHerald(herald);
  });

  const streams = async (): Promise<number> => {
    const response = await fetch(`${herald?.url}/status`);
    return ((await response.json()) as { connections: number }).connections;
  };

  /** Publishes `texts` to `topic` one after the other; `during(i)` runs after the i-th. */
  const publishAll = async (topic: string, all: string[], during?: (i: number) => Promise<void>) => {
    for (const [i, data] of all.entries()) {
      await publish({ url: herald?.url as string, topic, data });
      await during?.(i);
    }
  };

  const openTabs = async (context: BrowserContext, n: number, path: string): Promise<Page[]> => {
    const pages: Page[] = [];
    for (let i = 0; i < n; i++) {
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      page.on("pageerror", (error) => errors.push(error));
      await page.goto(`${herald?.url}${path}`);
      pages.push(page);
    }
    return pages;
  };

  test(`${TABS} tabs of the demo page share one stream (SharedWorker); closing the first loses nothing`, async () => {
    const context = await (browser as Browser).newContext();
    try {
      const tabs = await openTabs(context, TABS, "/?topic=news");
      for (const tab of tabs) {
        await tab.waitForSelector('#state[data-state="open"]');
        await tab.waitForSelector(`#sharing[data-tabs="${TABS}"]`);
      }
      assert.equal(await streams(), 1, "the hub sees one stream for all the tabs");
      const first = Array.from({ length: 10 }, (_, i) => `a${i}`);
      await publishAll("news", first);
      for (const tab of tabs) {
        await tab.waitForFunction((n) => document.querySelectorAll("#messages .message").length >= n, 10);
        assert.deepEqual(await texts(tab), first);
      }
      // close the tab that started the SharedWorker while events are being published
      const second = Array.from({ length: 20 }, (_, i) => `b${i}`);
      await publishAll("news", second, async (i) => {
        if (i === 5) await tabs[0]?.close();
      });
      const rest = tabs.slice(1);
      for (const tab of rest) {
        await tab.waitForFunction((n) => document.querySelectorAll("#messages .message").length >= n, 30);
        assert.deepEqual(await texts(tab), [...first, ...second], "every event once, in order");
        await tab.waitForSelector(`#sharing[data-tabs="${TABS - 1}"]`);
      }
      assert.equal(await streams(), 1);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test("without SharedWorker (BroadcastChannel, a Web Lock leader): the leader tab closes, another takes over with no gap and no duplicate", async () => {
    const context = await (browser as Browser).newContext();
    try {
      // same-origin pages served by Herald; the SDK is /herald-client.js
      const tabs = await openTabs(context, 4, "/health");
      // a string, not a function: tsx would wrap named callbacks in a helper the page lacks
      const join = (tab: Page) =>
        tab.evaluate(`(async () => {
          const sdk = await import(location.origin + "/herald-client.js");
          window.got = [];
          await new Promise((opened) => {
            sdk.subscribe({
              url: "/",
              topics: ["news"],
              share: { worker: false },
              initialDelayMs: 100,
              onEvent: (m) => window.got.push(m.text),
              onShare: (info) => { window.tabs = info.tabs; window.mode = info.mode; },
              onStateChange: (change) => { if (change.state === "open") opened(); },
            });
          });
        })()`);
      // the first tab is the leader: it joins first, the others wait for its lock
      for (const tab of tabs) await join(tab);
      for (const tab of tabs) {
        await tab.waitForFunction(() => (window as unknown as { tabs: number }).tabs === 4);
        assert.equal(await tab.evaluate(() => (window as unknown as { mode: string }).mode), "channel");
      }
      assert.equal(await streams(), 1);
      const all = Array.from({ length: 30 }, (_, i) => `c${i}`);
      await publishAll("news", all, async (i) => {
        if (i === 8) await tabs[0]?.close();
      });
      for (const tab of tabs.slice(1)) {
        await tab.waitForFunction((n) => (window as unknown as { got: string[] }).got.length >= n, 30);
        assert.deepEqual(await tab.evaluate(() => (window as unknown as { got: string[] }).got), all);
        await tab.waitForFunction(() => (window as unknown as { tabs: number }).tabs === 3);
      }
      await eventually(async () => (await streams()) === 1, "one stream again after the handover");
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
