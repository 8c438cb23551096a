import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { publish } from "../../packages/herald-client/src/index.ts";
import { browserSkip, launchChromium } from "../helpers/browser.ts";
import { type HeraldProcess, spawnHerald, stopHerald } from "../helpers/process.ts";
import { heraldToken, TEST_SECRET } from "../helpers/tokens.ts";

/**
 * Promise (docs/concepts.md "Ids": "Any other publish is a new event, stored and delivered, even
 * when another publisher's event already carries its id: a publisher can never stop or change the
 * delivery of events it may not publish"; issue 11, id squatting; docs/client.md `share`: "each
 * [tab] gets every event of its topics").
 *
 * Found in an attack round (2026-12-03): with `share`, each tab drops an event whose id is among
 * the last 1024 ids it saw (`RecentIds`, meant for a leader handover's replay). The hub delivers the
 * payroll service's event, but a tab whose shared stream also follows `sandbox` already saw that id
 * on a sandbox event (published first by a token allowed only `sandbox`), so the payroll event is
 * silently never shown: the squatting the hub prevents, done again in the SDK. A stream of its own
 * (no `share`) gets both.
 */
const skip = browserSkip;
if (skip) console.log(`# ${skip}`);

describe("share: an event whose id another publisher used first still reaches every tab", { skip }, () => {
  let browser: Browser | undefined;
  let herald: HeraldProcess | undefined;

  before(async () => {
    herald = await spawnHerald([], {
      HERALD_RETRY: "200ms",
      HERALD_JWT_SECRET: TEST_SECRET,
      HERALD_ALLOW_ANONYMOUS_PUBLISH: "false",
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    if (herald !== undefined) await stopHerald(herald);
  });

  test("a shared tab gets the sandbox event, then payroll's event with the same id", async () => {
    const url = herald?.url as string;
    const sandbox = await heraldToken({ publish: ["sandbox"] }, { subject: "tester", expiresInSec: 600 });
    const payroll = await heraldToken({ publish: ["payroll"] }, { subject: "payroll", expiresInSec: 600 });
    const context = await (browser as Browser).newContext();
    try {
      const tab: Page = await context.newPage();
      tab.setDefaultTimeout(20_000);
      await tab.goto(`${url}/health`);
      // a string, not a function: tsx would wrap named callbacks in a helper the page lacks
      await tab.evaluate(`(async () => {
        const sdk = await import(location.origin + "/herald-client.js");
        window.got = [];
        await new Promise((opened) => {
          sdk.subscribe({
            url: "/",
            topics: ["sandbox", "payroll"],
            share: { worker: false },
            onEvent: (m) => window.got.push(m.text),
            onStateChange: (change) => { if (change.state === "open") opened(); },
          });
        });
      })()`);
      await publish({ url, token: sandbox, topic: "sandbox", id: "payroll-2025-03", data: "sandbox squat" });
      await publish({ url, token: payroll, topic: "payroll", id: "payroll-2025-03", data: "payroll march" });
      await publish({ url, token: payroll, topic: "payroll", data: "payroll april" });
      await tab.waitForFunction(() => (window as unknown as { got: string[] }).got.includes("payroll april"));
      const got = await tab.evaluate(() => (window as unknown as { got: string[] }).got);
      assert.deepEqual(got, ["sandbox squat", "payroll march", "payroll april"]);
    } finally {
      await context.close();
    }
  });
});
