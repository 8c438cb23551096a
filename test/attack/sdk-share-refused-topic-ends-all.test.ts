import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { publish } from "../../packages/herald-client/src/index.ts";
import { browserSkip, launchChromium } from "../helpers/browser.ts";
import { portOf, SurvivingBus, startHeraldOn } from "../helpers/restart.ts";

/**
 * Promise (docs/client.md, "One connection per browser (`share`)"): "A topic the hub refuses to
 * add (a bad topic, more than `HERALD_MAX_TOPICS` in the union) ends the subscriptions that asked
 * for it with Herald's error; the others go on."
 *
 * Found in an attack round (2026-12-03): a tab that joins the shared stream while it is not open
 * (connecting, or reconnecting after the hub went away) brings its topics through the upstream's
 * `add`, which `LiveTopics.change` only records then (it resolves: "the next connection asks for
 * them"), so `StreamHost.refuse` is never called. The next connection asks the hub for the union
 * with the bad topic: 400, fatal, and the host sends `fatal` with no member: EVERY tab's
 * subscription ends with the other tab's error, and the good tab, subscribed to a valid topic, gets
 * nothing more. (The same when the tabs open at the same moment: the second join arrives while the
 * first tab's connection is still being opened; then the stream's difference is refused, the SDK
 * reconnects with the bad topic, and again every tab ends.)
 */
const skip = browserSkip;
if (skip) console.log(`# ${skip}`);

/** Subscribes the page to `topics` with `share`; its events go to `window.got[name]`, its end to `window.ended[name]`. */
const join = (tab: Page, name: string, topics: readonly string[], worker: string) =>
  tab.evaluate(`(async () => {
    const sdk = window.sdk;
    window.got ??= {};
    window.ended ??= {};
    window.states ??= {};
    window.got[${JSON.stringify(name)}] = [];
    window.subs ??= {};
    window.subs[${JSON.stringify(name)}] = sdk.subscribe({
      url: "/",
      topics: ${JSON.stringify(topics)},
      share: { worker: ${worker} },
      initialDelayMs: 100,
      maxDelayMs: 300,
      onEvent: (m) => window.got[${JSON.stringify(name)}].push(m.text),
      onStateChange: (c) => { window.states[${JSON.stringify(name)}] = c.state; },
      onError: (e) => { window.ended[${JSON.stringify(name)}] = e.message; },
    });
  })()`);

const stateOf = (tab: Page, name: string) =>
  tab.evaluate((n) => (window as unknown as { states: Record<string, string> }).states[n], name);

describe("attack: share: a tab with a refused topic ends the other tabs too", { skip }, () => {
  let browser: Browser | undefined;
  const bus = new SurvivingBus();
  let herald: Herald | undefined;

  before(async () => {
    herald = await startHeraldOn(0, bus, { retryMs: 100 });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await herald?.close();
  });

  for (const [mode, worker] of [
    ["SharedWorker", '"/herald-client.js"'],
    ["BroadcastChannel", "false"],
  ] as const) {
    test(`${mode}: a tab joins with a bad topic while the stream reconnects; the tab on news goes on`, async () => {
      const port = portOf(herald as Herald);
      const url = (herald as Herald).url;
      const context = await (browser as Browser).newContext();
      try {
        const good = await context.newPage();
        const bad = await context.newPage();
        for (const tab of [good, bad]) {
          tab.setDefaultTimeout(15_000);
          await tab.goto(`${url}/health`);
          // the SDK is loaded before the hub goes away
          await tab.evaluate(
            `(async () => { window.sdk = await import(location.origin + "/herald-client.js"); })()`,
          );
        }
        await join(good, "good", ["news"], worker);
        await good.waitForFunction(
          () => (window as unknown as { states: Record<string, string> }).states.good === "open",
        );
        // the hub goes away (a deploy): the shared stream reconnects
        await herald?.close();
        herald = undefined;
        await good.waitForFunction(
          () => (window as unknown as { states: Record<string, string> }).states.good === "reconnecting",
        );
        // another tab joins meanwhile, with a topic the hub refuses
        await join(bad, "bad", ["$herald/control"], worker);
        herald = await startHeraldOn(port, bus, { retryMs: 100 });
        // the bad tab ends with Herald's error
        await bad.waitForFunction(
          () => (window as unknown as { ended: Record<string, string> }).ended.bad !== undefined,
        );
        // the good tab goes on: it gets news events
        for (let i = 0; ; i++) {
          await publish({ url, topic: "news", data: `n${i}` });
          const got = await good.evaluate(
            () => (window as unknown as { got: Record<string, string[]> }).got.good,
          );
          if ((got?.length ?? 0) > 0) break;
          const ended = await good.evaluate(
            () => (window as unknown as { ended: Record<string, string> }).ended.good,
          );
          assert.equal(ended, undefined, "the tab on news was not ended by the other tab's refused topic");
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.notEqual(await stateOf(good, "good"), "closed");
      } finally {
        await context.close();
        if (herald === undefined) herald = await startHeraldOn(port, bus, { retryMs: 100 });
      }
    });

    test(`${mode}: the tab with the bad topic starts the stream while the hub is away, the tab on news joins; the tab on news goes on`, async () => {
      const port = portOf(herald as Herald);
      const url = (herald as Herald).url;
      const context = await (browser as Browser).newContext();
      try {
        const good = await context.newPage();
        const bad = await context.newPage();
        for (const tab of [good, bad]) {
          tab.setDefaultTimeout(15_000);
          await tab.goto(`${url}/health`);
          await tab.evaluate(
            `(async () => { window.sdk = await import(location.origin + "/herald-client.js"); })()`,
          );
        }
        // the worker (if any) is started while the hub is up, and the group left empty
        await join(good, "first", ["news"], worker);
        await good.waitForFunction(
          () => (window as unknown as { states: Record<string, string> }).states.first === "open",
        );
        await good.evaluate(() =>
          (window as unknown as { subs: Record<string, { close(): void }> }).subs.first?.close(),
        );
        await herald?.close();
        herald = undefined;
        // the bad tab starts the group's stream, the good tab joins it while it connects
        await join(bad, "bad", ["$herald/control"], worker);
        await join(good, "good", ["news"], worker);
        herald = await startHeraldOn(port, bus, { retryMs: 100 });
        await bad.waitForFunction(
          () => (window as unknown as { ended: Record<string, string> }).ended.bad !== undefined,
        );
        for (let i = 0; ; i++) {
          await publish({ url, topic: "news", data: `m${i}` });
          const got = await good.evaluate(
            () => (window as unknown as { got: Record<string, string[]> }).got.good,
          );
          if ((got?.length ?? 0) > 0) break;
          const ended = await good.evaluate(
            () => (window as unknown as { ended: Record<string, string> }).ended.good,
          );
          assert.equal(ended, undefined, "the tab on news was not ended by the other tab's refused topic");
          assert.ok(i < 150, "the tab on news gets news events");
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.notEqual(await stateOf(good, "good"), "closed");
      } finally {
        await context.close();
        if (herald === undefined) herald = await startHeraldOn(port, bus, { retryMs: 100 });
      }
    });
  }
});
