import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { browserSkip, launchChromium } from "../helpers/browser.ts";
import { listen, startMercureHerald } from "./helpers.ts";
import { accessToken, detail, ISSUER, resourceOf } from "./v1-helpers.ts";

/**
 * The cases of the Mercure 1.0 conformance suite (dunglas/mercure `conformance-tests/`,
 * v1.0.0-alpha.3: ten "Publish update" cases, named below as upstream names them), restated from
 * the spec (spec/mercure.md) in our own words and run in a real browser: a page on the hub's origin
 * subscribes with the native `EventSource` ("Subscription": `match` for exact topics,
 * `match_urlpattern` for URL patterns), then publishes with `fetch` ("Publication": a form with
 * `topic`, `id`, `data`, `private`, and a token whose authorization details grant `publish` on
 * `*`). Against one Herald in 1.0 mode and one in compatibility mode 8 (0.x beside 1.0).
 *
 * What each case checks, beyond upstream (whose "not received" is a 2 s wait that a failed publish
 * also passes):
 * - the publish answer: 200, `text/plain`, the body the update's `id` ("the response body MUST be
 *   the `id`"; a publisher-supplied id is used as is by Herald), for every case;
 * - "not received" is decided by a fence: a public update on a topic the subscriber also matches,
 *   published after the update; the stream carries updates in order, so once the fence arrived
 *   the update either came before it or never will. No fixed wait.
 * - a private update is also delivered to a subscriber whose token may read it (an `eventsource`
 *   client in this process, with the `Authorization` header), so its
 *   absence for the anonymous subscriber is the authorization rule ("If an update is marked as
 *   `private`, the hub MUST NOT dispatch it to subscribers not authorized to receive it"), not a
 *   matching failure.
 * The data has a blank line and leading spaces: "one SSE `data:` field per line", reassembled by
 * the receiver joined by LF, must come back equal.
 */

interface Case {
  /** The upstream case it mirrors. */
  readonly name: string;
  readonly topics: readonly string[];
  /** `match` (exact) or `match_urlpattern` selectors. */
  readonly selectors: readonly (readonly ["match" | "match_urlpattern", string])[];
  readonly received: boolean;
  readonly private?: boolean;
}

const random = () => randomBytes(12).toString("hex");

/** Fresh topics per run and per case: the cases run at once on one hub and must not see each other's updates. */
function cases(): Case[] {
  const r = Array.from({ length: 10 }, random);
  return [
    { name: "raw string", topics: [r[0]!], selectors: [["match", r[0]!]], received: true },
    {
      name: "multiple topic selectors",
      topics: [r[1]!],
      selectors: [
        ["match", `foo-${r[1]}`],
        ["match", r[1]!],
      ],
      received: true,
    },
    {
      name: "URI",
      topics: [`https://example.net/foo/${r[2]}`],
      selectors: [["match", `https://example.net/foo/${r[2]}`]],
      received: true,
    },
    {
      name: "URL pattern",
      topics: [`https://example.net/${r[3]}/foo/1`],
      selectors: [["match_urlpattern", `https://example.net/${r[3]}/foo/:random`]],
      received: true,
    },
    {
      name: "nonmatching raw string",
      topics: [`will-not-match-${r[4]}`],
      selectors: [["match", `another-name-${r[4]}`]],
      received: false,
    },
    {
      name: "nonmatching URI",
      topics: [`https://example.net/foo/will-not-match-${r[5]}`],
      selectors: [["match", `https://example.net/foo/another-name-${r[5]}`]],
      received: false,
    },
    {
      name: "nonmatching URL pattern",
      topics: [`https://example.net/${r[6]}/foo/will-not-match`],
      selectors: [["match_urlpattern", `https://example.net/${r[6]}/bar/:var`]],
      received: false,
    },
    {
      name: "private raw string",
      topics: [r[7]!],
      selectors: [["match", r[7]!]],
      received: false,
      private: true,
    },
    {
      name: "private URI",
      topics: [`https://example.net/foo/${r[8]}`],
      selectors: [["match", `https://example.net/foo/${r[8]}`]],
      received: false,
      private: true,
    },
    {
      name: "private URL pattern",
      topics: [`https://example.net/${r[9]}/foo/1`],
      selectors: [["match_urlpattern", `https://example.net/${r[9]}/foo/:random`]],
      received: false,
      private: true,
    },
  ];
}

/**
 * Page code, as strings (tsx would wrap a function's inner names in a helper the page lacks).
 * `window.received` collects the stream's `message` events.
 */
const SUBSCRIBE = (query: string) => `new Promise((resolve, reject) => {
  window.received = [];
  const source = new EventSource("/.well-known/mercure?" + ${JSON.stringify(query)});
  source.onmessage = (event) => window.received.push({ id: event.lastEventId, type: event.type, data: event.data });
  source.onopen = () => resolve();
  source.onerror = () => reject(new Error("EventSource failed, readyState " + source.readyState));
})`;

const PUBLISH = (fields: [string, string][], token: string) => `(async () => {
  const form = new URLSearchParams(${JSON.stringify(fields)});
  const answer = await fetch("/.well-known/mercure", {
    method: "POST",
    headers: { authorization: ${JSON.stringify(`Bearer ${token}`)} },
    body: form,
  });
  return { status: answer.status, type: answer.headers.get("content-type"), body: await answer.text() };
})()`;

interface Received {
  id: string;
  type: string;
  data: string;
}

declare global {
  interface Window {
    received: Received[];
  }
}

describe("Mercure 1.0 conformance cases (upstream conformance-tests), in Chromium", {
  skip: browserSkip,
}, () => {
  let browser: Browser;
  const hubs: { name: string; herald: Herald | undefined }[] = [
    { name: "1.0 mode", herald: undefined },
    { name: "compatibility mode 8", herald: undefined },
  ];

  before(async () => {
    const options = { mercureIssuer: ISSUER, mercureAnonymous: true };
    const [modern, compat, launched] = await Promise.all([
      startMercureHerald({ ...options, mercureProtocolCompatibility: 0 }),
      startMercureHerald({ ...options, mercureProtocolCompatibility: 8 }),
      // Twenty pages at once: a few renderer processes for all of them, not one each.
      launchChromium(["--renderer-process-limit=2"]),
    ]);
    hubs[0]!.herald = modern;
    hubs[1]!.herald = compat;
    browser = launched;
  });
  after(async () => {
    await browser?.close();
    for (const hub of hubs) await hub.herald?.close();
  });

  /**
   * Browser contexts, two per hub: Chromium holds at most 6 connections to one origin per context,
   * so five cases (five streams, and their publishes) share one. Fresh contexts cost seconds each
   * on a loaded machine.
   */
  const contexts = new Map<string, Promise<BrowserContext>>();

  /** A page on the hub's origin subscribed with `query`, in the context `slot` of that hub. */
  async function subscriber(herald: Herald, query: string, slot: number): Promise<Page> {
    const key = `${herald.url} ${slot}`;
    let context = contexts.get(key);
    if (context === undefined) {
      context = browser.newContext();
      contexts.set(key, context);
    }
    const page = await (await context).newPage();
    await page.goto(`${herald.url}/healthz`);
    await page.evaluate(SUBSCRIBE(query));
    return page;
  }

  const arrived = (page: Page, id: string) =>
    page.waitForFunction((i) => window.received.some((e) => e.id === i), id, { timeout: 15_000 });

  async function run(herald: Herald, c: Case, slot: number): Promise<void> {
    const resource = resourceOf(herald.url);
    const publisher = await accessToken(resource, [detail(["publish"], ["*"])]);
    const reader = await accessToken(resource, [detail(["subscribe"], ["*"])]);
    const fence = `urn:fence:${random()}`;
    const selectors: [string, string][] = [
      ...c.selectors.map(([n, v]): [string, string] => [n, v]),
      ["match", fence],
    ];
    const anonymous = await subscriber(herald, new URLSearchParams(selectors).toString(), slot);
    const authorized = c.private
      ? await listen(herald.url, selectors, { headers: { authorization: `Bearer ${reader}` } })
      : undefined;
    try {
      const id = `id-${JSON.stringify(c.topics)}`;
      const data = `data for\n\n        ${c.name}`;
      const fields: [string, string][] = [
        ...c.topics.map((t): [string, string] => ["topic", t]),
        ["id", id],
        ["data", data],
      ];
      if (c.private) fields.push(["private", "on"]);
      const answer = (await anonymous.evaluate(PUBLISH(fields, publisher))) as {
        status: number;
        type: string | null;
        body: string;
      };
      assert.equal(answer.status, 200, answer.body);
      assert.match(answer.type ?? "", /^text\/plain(;|$)/);
      assert.equal(answer.body, id, "the answer is the update's id");

      const fenceId = `fence-${random()}`;
      const fenced = (await anonymous.evaluate(
        PUBLISH(
          [
            ["topic", fence],
            ["id", fenceId],
            ["data", "fence"],
          ],
          publisher,
        ),
      )) as { status: number; body: string };
      assert.equal(fenced.status, 200, fenced.body);
      await arrived(anonymous, fenceId);
      const seen = (await anonymous.evaluate("window.received")) as Received[];
      const update = seen.filter((e) => e.id === id);
      if (c.received) {
        assert.deepEqual(update, [{ id, type: "message", data }], "the update, once, as published");
      } else {
        assert.deepEqual(update, [], "the update must not reach this subscriber");
      }
      assert.deepEqual(
        seen.map((e) => e.id),
        [...update.map((e) => e.id), fenceId],
        "nothing else on the stream",
      );
      if (authorized !== undefined) {
        await authorized.until(() => authorized.events.some((e) => e.id === fenceId), 15_000, "the fence");
        const theirs = authorized.events.filter((e) => e.id === id);
        assert.deepEqual(
          theirs,
          [{ id, type: "message", data }],
          "a reader with a token gets the private update",
        );
      }
    } finally {
      await anonymous.close();
      authorized?.close();
    }
  }

  // Every case on both hubs at once: ~1 s each, the file well under 30 s.
  describe("both hubs", { concurrency: true }, () => {
    for (const hub of hubs) {
      describe(hub.name, { concurrency: true }, () => {
        for (const [i, c] of cases().entries()) {
          it(`${c.name}: ${c.received ? "received" : "not received"}`, () =>
            run(hub.herald as Herald, c, i % 2));
        }
      });
    }
  });
});
