import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { browserSkip, launchChromium } from "../helpers/browser.ts";
import { mercureToken, published, startMercureHerald } from "./helpers.ts";
import { accessToken, detail, ISSUER, resourceOf } from "./v1-helpers.ts";

declare global {
  interface Window {
    received: { id: string; type: string; data: string }[];
  }
}

const skip = browserSkip;

describe("Mercure in a real browser (Chromium, native EventSource)", { skip }, () => {
  let herald: Herald;
  let browser: Browser;

  before(async () => {
    // 0.x and 1.0 on one hub; a cookie name without the __Secure- prefix: the page is plain HTTP
    herald = await startMercureHerald({
      mercureAnonymous: true,
      mercureIssuer: ISSUER,
      mercureCookieName: "mercure_access_token",
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await herald?.close();
  });

  /** A page on Herald's origin whose EventSource collects `message` and `types` events. */
  async function subscribe(
    query: string,
    cookie?: string,
    types: string[] = [],
    cookieName = "mercureAuthorization",
  ) {
    const context = await browser.newContext();
    if (cookie !== undefined) {
      await context.addCookies([{ name: cookieName, value: cookie, url: herald.url }]);
    }
    const page = await context.newPage();
    await page.goto(`${herald.url}/healthz`);
    // A string, not a function: tsx would wrap a function's inner names in a helper the page lacks.
    await page.evaluate(`new Promise((resolve, reject) => {
      window.received = [];
      const source = new EventSource("/.well-known/mercure?" + ${JSON.stringify(query)});
      const collect = (event) =>
        window.received.push({ id: event.lastEventId, type: event.type, data: String(event.data) });
      source.addEventListener("message", collect);
      for (const type of ${JSON.stringify(types)}) source.addEventListener(type, collect);
      source.onopen = () => resolve();
      source.onerror = () => reject(new Error("EventSource failed, readyState " + source.readyState));
    })`);
    const received = async (data: string) => {
      await page.waitForFunction((d) => window.received.some((e) => e.data === d), data, { timeout: 10_000 });
      return page.evaluate(() => window.received);
    };
    return { page, context, received };
  }

  it("receives multi-line data, typed events and template matches; private updates only with the cookie", async () => {
    const publisher = await mercureToken({ publish: ["*"] });
    const reader = await mercureToken({ subscribe: ["https://example.com/books/{id}"] });
    const query = `topic=${encodeURIComponent("https://example.com/books/{id}")}`;
    const anonymous = await subscribe(query, undefined, ["book"]);
    const withCookie = await subscribe(query, reader, ["book"]);

    const multiline = "line one\nline two\n\nline four";
    const id = await published(herald.url, publisher, [
      ["topic", "https://example.com/books/1"],
      ["data", multiline],
      ["type", "book"],
    ]);
    await published(herald.url, publisher, [
      ["topic", "https://example.com/books/1/reviews"],
      ["data", "no"],
    ]);
    await published(herald.url, publisher, [
      ["topic", "https://example.com/books/2"],
      ["data", "private one"],
      ["private", "on"],
    ]);
    await published(herald.url, publisher, [
      ["topic", "https://example.com/books/3"],
      ["data", "public end"],
    ]);

    const seenByCookie = await withCookie.received("public end");
    assert.deepEqual(
      seenByCookie.map((e) => e.data),
      [multiline, "private one", "public end"],
    );
    assert.equal(seenByCookie[0]!.id, id);
    assert.equal(seenByCookie[0]!.type, "book");
    const seenAnonymously = await anonymous.received("public end");
    assert.deepEqual(
      seenAnonymously.map((e) => e.data),
      [multiline, "public end"],
    );
    await anonymous.context.close();
    await withCookie.context.close();
  });

  it("Mercure 1.0: match_urlpattern in the browser; a private update only with the access token's cookie", async () => {
    const aud = resourceOf(herald.url);
    const publisher = await accessToken(aud, [detail(["publish"], ["*"])]);
    const reader = await accessToken(aud, [
      detail(["subscribe"], [{ match: "https://example.com/shelves/:id", match_type: "urlpattern" }]),
    ]);
    const query = `match_urlpattern=${encodeURIComponent("https://example.com/shelves/:id")}`;
    const anonymous = await subscribe(query);
    const withCookie = await subscribe(query, reader, [], "mercure_access_token");
    await published(herald.url, publisher, [
      ["topic", "https://example.com/shelves/1/books"],
      ["data", "not matched"],
    ]);
    await published(herald.url, publisher, [
      ["topic", "https://example.com/shelves/2"],
      ["data", "private shelf"],
      ["private", "on"],
    ]);
    await published(herald.url, publisher, [
      ["topic", "https://example.com/shelves/1"],
      ["data", "public shelf"],
    ]);
    assert.deepEqual(
      (await withCookie.received("public shelf")).map((e) => e.data),
      ["private shelf", "public shelf"],
    );
    assert.deepEqual(
      (await anonymous.received("public shelf")).map((e) => e.data),
      ["public shelf"],
    );
    await anonymous.context.close();
    await withCookie.context.close();
  });

  it("resumes with lastEventID in the URL, as a browser must on its first connection", async () => {
    const publisher = await mercureToken({ publish: ["*"] });
    const first = await published(herald.url, publisher, [
      ["topic", "resume"],
      ["data", "one"],
    ]);
    await published(herald.url, publisher, [
      ["topic", "resume"],
      ["data", "two"],
    ]);
    const sub = await subscribe(`topic=resume&lastEventID=${encodeURIComponent(first)}`);
    const seen = await sub.received("two");
    assert.deepEqual(
      seen.map((e) => e.data),
      ["two"],
    );
    await sub.context.close();
  });

  it("subscribes cross-origin with the cookie when the page's origin is in MERCURE_CORS_ORIGINS", async () => {
    // The page is served from another port of 127.0.0.1: another origin, the same site (so the
    // Lax cookie is sent), and CORS decides.
    const page = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>app</title>");
    });
    await new Promise<void>((resolve) => page.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
    const hub = await startMercureHerald({ mercureCorsOrigins: [origin] });
    const context = await browser.newContext();
    try {
      const reader = await mercureToken({ subscribe: ["cors-topic"] });
      await context.addCookies([
        { name: "mercureAuthorization", value: reader, url: hub.url, sameSite: "Lax" },
      ]);
      const tab = await context.newPage();
      await tab.goto(origin);
      const open = (hubUrl: string, topic: string) =>
        tab.evaluate(`new Promise((resolve) => {
          window.received = [];
          const source = new EventSource(${JSON.stringify(hubUrl)} + "/.well-known/mercure?topic=" + ${JSON.stringify(topic)}, { withCredentials: true });
          source.onmessage = (event) => window.received.push({ id: event.lastEventId, type: event.type, data: event.data });
          source.onopen = () => resolve("open");
          source.onerror = () => { source.close(); resolve("error"); };
        })`);
      assert.equal(await open(hub.url, "cors-topic"), "open");
      const publisher = await mercureToken({ publish: ["*"] });
      await published(hub.url, publisher, [
        ["topic", "cors-topic"],
        ["data", "private via cookie"],
        ["private", "on"],
      ]);
      await tab.waitForFunction(
        () => window.received.some((e) => e.data === "private via cookie"),
        undefined,
        {
          timeout: 10_000,
        },
      );
      // A hub that does not list the page's origin: the browser refuses the stream.
      const closed = await startMercureHerald({ mercureCorsOrigins: ["https://other.example"] });
      try {
        assert.equal(await open(closed.url, "cors-topic"), "error");
      } finally {
        await closed.close();
      }
    } finally {
      await context.close();
      await hub.close();
      await new Promise((resolve) => page.close(resolve));
    }
  });
});
