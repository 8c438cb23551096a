import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { publish } from "../../packages/herald-client/src/index.ts";
import { browserSkip, launchChromium } from "../helpers/browser.ts";
import { type HeraldProcess, spawnHerald, stopHerald } from "../helpers/process.ts";

/**
 * Promise (docs/client.md, "One connection per browser"): "Leaving. Each tab holds a Web Lock of
 * its own while it lives; whoever runs the stream asks for it, so it learns that a tab closed even
 * when it crashed" and the SDK "never loses an event silently"; issue 16: "Each tab still receives
 * exactly its own topics".
 *
 * Found in an attack round (2026-12-03): the host of a shared stream (the SharedWorker, or the
 * leader tab on a BroadcastChannel) drops a member on any `{t: "leave", member}` message, from
 * anyone. Member names are the tabs' Web Lock names, which every page of the origin can list
 * (`navigator.locks.query()`), as it can the leader lock (whose name holds the group key, so the
 * channel's name). One other page of the origin (a hostile or merely buggy tab, an old SDK, a
 * same-origin widget) that sends `leave` for each member makes the host think every tab left: it
 * closes the stream, and the tabs, still open and still subscribed, get nothing more, with no
 * error, no state change, no reconnect, and (BroadcastChannel) no new leader, since the leader tab
 * still holds its lock.
 */
const skip = browserSkip;
if (skip) console.log(`# ${skip}`);

/** Subscribes the page to `news` through a shared stream; resolves once it is open. */
const join = (tab: Page, worker: string) =>
  tab.evaluate(`(async () => {
    const sdk = await import(location.origin + "/herald-client.js");
    window.got = [];
    await new Promise((opened) => {
      window.sub = sdk.subscribe({
        url: "/",
        topics: ["news"],
        share: { worker: ${worker} },
        initialDelayMs: 100,
        onEvent: (m) => window.got.push(m.text),
        onShare: (info) => { window.tabs = info.tabs; },
        onStateChange: (change) => { window.state = change.state; if (change.state === "open") opened(); },
      });
    });
  })()`);

/** From another page of the origin: `leave` for every member lock it can see, on the channel and the worker. */
const sendLeaves = (page: Page) =>
  page.evaluate(`(async () => {
    const { held } = await navigator.locks.query();
    const members = held.map((l) => l.name).filter((n) => n.startsWith("herald-client:member:"));
    const leader = held.map((l) => l.name).find((n) => n.startsWith("herald-client:leader:"));
    if (leader !== undefined) {
      const channel = new BroadcastChannel("herald-client:" + leader.slice("herald-client:leader:".length));
      for (const member of members) channel.postMessage({ t: "leave", member });
    }
    const worker = new SharedWorker(location.origin + "/herald-client.js", { type: "module", name: "herald-client" });
    worker.port.start();
    for (const member of members) worker.port.postMessage({ t: "leave", member });
    return members.length;
  })()`);

describe("share: another page of the origin sends leave for the tabs' members", { skip }, () => {
  let browser: Browser | undefined;
  let herald: HeraldProcess | undefined;
  before(async () => {
    herald = await spawnHerald([], { HERALD_RETRY: "200ms" });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    if (herald !== undefined) await stopHerald(herald);
  });

  for (const [mode, worker] of [
    ["SharedWorker", JSON.stringify("/herald-client.js")],
    ["BroadcastChannel", "false"],
  ] as const) {
    test(`${mode}: the 3 tabs still get every event (or are told they do not)`, async () => {
      const context = await (browser as Browser).newContext();
      try {
        const tabs: Page[] = [];
        for (let i = 0; i < 3; i++) {
          const tab = await context.newPage();
          tab.setDefaultTimeout(20_000);
          await tab.goto(`${herald?.url}/health`);
          await join(tab, worker);
          tabs.push(tab);
        }
        for (const tab of tabs)
          await tab.waitForFunction(() => (window as unknown as { tabs: number }).tabs === 3);
        await publish({ url: herald?.url as string, topic: "news", data: "e1" });
        for (const tab of tabs) {
          await tab.waitForFunction(() => (window as unknown as { got: string[] }).got.includes("e1"));
        }
        const other = await context.newPage();
        await other.goto(`${herald?.url}/health`);
        assert.equal(await sendLeaves(other), 3, "the other page sees the 3 tabs' member locks");
        await new Promise((resolve) => setTimeout(resolve, 500));
        await publish({ url: herald?.url as string, topic: "news", data: "e2" });
        for (const [i, tab] of tabs.entries()) {
          const ok = await tab
            .waitForFunction(
              () => {
                const w = window as unknown as { got: string[]; state: string };
                return w.got.includes("e2") || w.state !== "open";
              },
              undefined,
              { timeout: 10_000 },
            )
            .then(
              () => true,
              () => false,
            );
          const seen = await tab.evaluate(() => (window as unknown as { got: string[]; state: string }).got);
          const state = await tab.evaluate(() => (window as unknown as { state: string }).state);
          assert.ok(
            ok,
            `tab ${i} (state ${state}) got ${JSON.stringify(seen)}: e2 never came, and nothing said so`,
          );
        }
      } finally {
        await context.close();
      }
    });
  }
});
