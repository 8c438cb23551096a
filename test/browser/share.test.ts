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

  /** The hub's open streams and their topic selectors (`/status`). */
  const status = async (): Promise<{ connections: number; subscriptions: number }> => {
    const response = await fetch(`${herald?.url}/status`);
    const { connections, subscriptions } = (await response.json()) as {
      connections: number;
      subscriptions: number;
    };
    return { connections, subscriptions };
  };

  /** Subscribes a tab (a same-origin page) to `topics` with `share` (`worker`: the SDK script, or false); its events go to `window.got`. */
  const joinWith = (tab: Page, topics: readonly string[], worker: string | false) =>
    tab.evaluate(`(async () => {
      const sdk = await import(location.origin + "/herald-client.js");
      window.got = [];
      await new Promise((opened) => {
        sdk.subscribe({
          url: "/",
          topics: ${JSON.stringify(topics)},
          share: { worker: ${JSON.stringify(worker)} },
          initialDelayMs: 100,
          onEvent: (m) => window.got.push(m.text),
          onShare: (info) => { window.tabs = info.tabs; window.mode = info.mode; },
          onStateChange: (change) => { if (change.state === "open") opened(); },
        });
      });
    })()`);
  const got = (tab: Page) =>
    tab.evaluate(() => (window as unknown as { got: string[] }).got.filter((t) => !t.startsWith("probe")));

  /** Whether a tab of `topics` gets an event of `eventTopics` (Herald's selectors: exact, or a prefix ending in `/*`). */
  const wants = (topics: readonly string[], eventTopics: readonly string[]) =>
    topics.some((selector) =>
      eventTopics.some((topic) =>
        selector.endsWith("/*") ? topic.startsWith(selector.slice(0, -1)) : topic === selector,
      ),
    );

  /**
   * Publishes a probe on every topic of `sets` until every tab got one: the topics a tab brought
   * are on the stream from then on (a tab gets the events of a topic it adds once the hub added it).
   */
  const probe = async (tabs: Page[], sets: readonly (readonly string[])[]) => {
    const every = [...new Set(sets.flat().map((t) => (t.endsWith("/*") ? `${t.slice(0, -1)}probe` : t)))];
    let n = 0;
    await eventually(
      async () => {
        await publish({ url: herald?.url as string, topic: every, data: `probe${n++}` });
        for (const tab of tabs) {
          const has = await tab.evaluate(() =>
            (window as unknown as { got: string[] }).got.some((t) => t.startsWith("probe")),
          );
          if (!has) return false;
        }
        return true;
      },
      "every tab got a probe",
      15_000,
    );
  };

  /** Events on single and several topics, some nobody has, some two selectors of one tab match. */
  const EVENTS: readonly (readonly string[])[] = [
    ["a/1"],
    ["a/2"],
    ["b"],
    ["c"],
    ["d"],
    ["e"],
    ["a/3"],
    ["x"],
    ["b", "c"],
    ["a/1", "e"],
    ["c", "d", "x"],
    ["a/2", "b"],
  ];
  const publishEvents = async (prefix: string, during?: (i: number) => Promise<void>) => {
    const sent: { text: string; topics: readonly string[] }[] = [];
    for (let round = 0; round < 3; round++) {
      for (const topics of EVENTS) {
        const text = `${prefix}${sent.length}:${topics.join("+")}`;
        await publish({ url: herald?.url as string, topic: topics, data: text });
        sent.push({ text, topics });
        await during?.(sent.length - 1);
      }
    }
    return sent;
  };
  const expected = (sent: { text: string; topics: readonly string[] }[], topics: readonly string[]) =>
    sent.filter((e) => wants(topics, e.topics)).map((e) => e.text);

  /** Different topic sets, some overlapping, one a pattern: their union is 7 selectors. */
  const SETS: readonly (readonly string[])[] = [
    ["a/1"],
    ["a/*"],
    ["b"],
    ["b", "c"],
    ["c", "d"],
    ["d", "a/2"],
    ["e"],
    ["e", "a/1", "b"],
  ];

  test(`${TABS} tabs with ${TABS} different topic sets share one stream of their union (SharedWorker); each gets exactly its own events; a tab leaving takes its topics off`, async () => {
    const context = await (browser as Browser).newContext();
    try {
      const tabs = await openTabs(context, TABS, "/health");
      for (const [i, tab] of tabs.entries()) await joinWith(tab, SETS[i] as string[], "/herald-client.js");
      for (const tab of tabs) {
        await tab.waitForFunction((n) => (window as unknown as { tabs: number }).tabs === n, TABS);
        assert.equal(await tab.evaluate(() => (window as unknown as { mode: string }).mode), "worker");
      }
      await probe(tabs, SETS);
      assert.deepEqual(await status(), { connections: 1, subscriptions: 7 }, "one stream, the union");
      const sent = await publishEvents("w");
      for (const [i, tab] of tabs.entries()) {
        const want = expected(sent, SETS[i] as string[]);
        assert.ok(want.length > 0);
        await tab.waitForFunction(
          (n) =>
            (window as unknown as { got: string[] }).got.filter((t) => !t.startsWith("probe")).length >= n,
          want.length,
        );
        assert.deepEqual(
          await got(tab),
          want,
          `tab ${i} (${SETS[i]?.join(", ")}): its own events, once, in order`,
        );
      }
      // a/* only tab 1 has: off the stream when it closes; a/1 tab 7 still has after tab 0 closes
      await tabs[1]?.close();
      await eventually(async () => (await status()).subscriptions === 6, "a/* taken off the stream");
      await tabs[0]?.close();
      await tabs[7]?.close(); // its e and b others have, its a/1 nobody now
      await eventually(async () => (await status()).subscriptions === 5, "a/1 taken off the stream");
      const rest = [2, 3, 4, 5, 6];
      for (const i of rest)
        await (tabs[i] as Page).evaluate(() => {
          (window as unknown as { got: string[] }).got = [];
        });
      const later = await publishEvents("v");
      for (const i of rest) {
        const tab = tabs[i] as Page;
        const want = expected(later, SETS[i] as string[]);
        await tab.waitForFunction(
          (n) => (window as unknown as { got: string[] }).got.length >= n,
          want.length,
        );
        assert.deepEqual(await got(tab), want, `tab ${i} after the others left`);
        await tab.waitForFunction(() => (window as unknown as { tabs: number }).tabs === 5);
      }
      assert.equal((await status()).connections, 1);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test("BroadcastChannel: tabs with different topic sets share one stream; a tab leaving takes its topics off; the leader closes mid-publish and each tab still gets its own events once, in order", async () => {
    const context = await (browser as Browser).newContext();
    const sets = [["b", "a/*"], ["a/1"], ["c", "e"], ["b", "d"], ["e"]] as const;
    try {
      const tabs = await openTabs(context, sets.length, "/health");
      for (const [i, tab] of tabs.entries()) await joinWith(tab, sets[i] as readonly string[], false);
      for (const tab of tabs) {
        await tab.waitForFunction((n) => (window as unknown as { tabs: number }).tabs === n, sets.length);
        assert.equal(await tab.evaluate(() => (window as unknown as { mode: string }).mode), "channel");
      }
      await probe(tabs, sets);
      assert.deepEqual(await status(), { connections: 1, subscriptions: 6 }, "one stream, the union");
      // d only tab 3 has: off the stream when it closes
      await tabs[3]?.close();
      await eventually(async () => (await status()).subscriptions === 5, "d taken off the stream");
      const rest = [1, 2, 4];
      const sent = await publishEvents("c", async (i) => {
        if (i === 10) await tabs[0]?.close(); // the leader, alone with a/* (b: nobody now)
      });
      for (const i of rest) {
        const tab = tabs[i] as Page;
        const want = expected(sent, sets[i] as readonly string[]);
        await tab.waitForFunction(
          (n) =>
            (window as unknown as { got: string[] }).got.filter((t) => !t.startsWith("probe")).length >= n,
          want.length,
        );
        assert.deepEqual(
          await got(tab),
          want,
          `tab ${i} (${sets[i]?.join(", ")}): its own events, once, in order`,
        );
        await tab.waitForFunction(() => (window as unknown as { tabs: number }).tabs === 3);
      }
      await eventually(async () => (await status()).connections === 1, "one stream again after the handover");
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  test("BroadcastChannel: the next leader joined after the last topic change, and lacks the others' topics: it starts the stream with all of them (no gap for the others)", async () => {
    const context = await (browser as Browser).newContext();
    // the leader has every topic: no tab after it brings a new one, so no change is ever made
    const sets = [["a/*", "c", "e"], ["c"], ["a/*"], ["e"]] as const;
    try {
      const tabs = await openTabs(context, sets.length, "/health");
      for (const [i, tab] of tabs.entries()) await joinWith(tab, sets[i] as readonly string[], false);
      for (const tab of tabs) {
        await tab.waitForFunction((n) => (window as unknown as { tabs: number }).tabs === n, sets.length);
      }
      await probe(tabs, sets);
      const sent = await publishEvents("h", async (i) => {
        // tab 1, with c only, takes over; events go on meanwhile (not waiting for the close)
        if (i === 4) void tabs[0]?.close();
      });
      for (const i of [1, 2, 3]) {
        const tab = tabs[i] as Page;
        const want = expected(sent, sets[i] as readonly string[]);
        await tab.waitForFunction(
          (n) =>
            (window as unknown as { got: string[] }).got.filter((t) => !t.startsWith("probe")).length >= n,
          want.length,
        );
        assert.deepEqual(
          await got(tab),
          want,
          `tab ${i} (${sets[i]?.join(", ")}): its own events, once, in order`,
        );
      }
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
