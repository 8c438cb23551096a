import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { RawStream } from "../helpers/herald.ts";
import { HUB, mercureToken, published, startMercureHerald } from "./helpers.ts";

/**
 * Issue 11, "Mercure URI templates": one IP opened 99 streams of 32 distinct heavy templates each
 * (`{+q,v0,...,v17}@@`); every publish then ran thousands of big matchers (3 ms -> 377 ms) and
 * ~0.9 GB stayed pinned after the clients left. Templates now have a size limit (400), are shared
 * and reference-counted, are capped per client IP (429) and held in a cache bounded in bytes (503
 * when templates in use fill it; what no stream uses is given back).
 */
const from = (ip: string) => ({ "x-forwarded-for": ip });
/** A template whose matcher (a DFA) needs ~29,000 states: three bounded counts in a row. */
const blowup = "x{a:12}/{b:12}.{c:12}";
const template = (name: string) => `https://example.com/${name}/{id}`;

describe("Mercure URI templates: what one client may cost", () => {
  let herald: Herald;
  let publisher: string;
  const streams: RawStream[] = [];

  /** Opens a stream from `ip` with these selectors; resolves once the hub answered. */
  async function open(ip: string, topics: string[]): Promise<RawStream> {
    const query = topics.map((t) => `topic=${encodeURIComponent(t)}`).join("&");
    const stream = new RawStream(`${herald.url}${HUB}?${query}`, from(ip));
    streams.push(stream);
    await stream.until(() => stream.status !== 0 && (stream.status !== 200 || stream.text.includes(":")));
    if (stream.status !== 200) await stream.until(() => stream.closed);
    return stream;
  }
  const stats = () => herald.mercure.context.selectors.stats;

  before(async () => {
    herald = await startMercureHerald({
      trustProxy: true,
      maxTemplatesPerIp: 8,
      templateCacheBytes: 1 << 20,
    });
    publisher = await mercureToken({ publish: ["*"] });
  });
  after(async () => {
    for (const stream of streams) stream.close();
    await herald.close();
  });

  it("refuses a template over the size limit with a 400 naming the limit", async () => {
    const stream = await open("10.0.1.1", [blowup]);
    assert.equal(stream.status, 400);
    assert.match(stream.text, /too complex/);
    assert.match(stream.text, /HERALD_MAX_TEMPLATE_SIZE=256/);
  });

  it("caps the distinct templates of one IP (429), counts shared ones once, and frees them when its streams close", async () => {
    const watcher = await open("10.0.2.9", [template("watch")]);
    const a1 = await open("10.0.2.1", [template("a"), template("b"), template("c"), "plain"]);
    const a2 = await open("10.0.2.1", [template("d"), template("e"), template("f")]);
    const again = await open("10.0.2.1", [template("a"), template("f")]);
    assert.deepEqual(
      [a1.status, a2.status, again.status],
      [200, 200, 200],
      "6 distinct, reused ones count once",
    );
    const over = await open("10.0.2.1", [template("g"), template("h"), template("i")]);
    assert.equal(over.status, 429);
    assert.match(over.text, /HERALD_MAX_TEMPLATES_PER_IP/);
    assert.match(over.text, /limit is 8/);
    const other = await open("10.0.2.2", [template("g"), template("h"), template("i")]);
    assert.equal(other.status, 200, "another address has its own allowance");

    await published(herald.url, publisher, [
      ["topic", "https://example.com/watch/1"],
      ["data", "still served"],
    ]);
    await watcher.until(() => watcher.text.includes("data: still served"));

    for (const s of [a1, a2, again]) s.close();
    await waitFor(() => herald.mercure.context.selectors.heldBy("10.0.2.1") === 0);
    const fresh = await open("10.0.2.1", [template("x"), template("y"), template("z")]);
    assert.equal(fresh.status, 200, "the address's allowance is back once its streams closed");
  });

  it("shares one compiled matcher per template text and releases its memory when clients leave", async () => {
    const before = stats();
    const clients = [];
    for (let i = 0; i < 30; i++) {
      clients.push(await open(`10.0.3.${i}`, [template("shared"), template(`own${i}`)]));
    }
    assert.ok(clients.every((s) => s.status === 200));
    assert.equal(stats().live - before.live, 31, "30 streams hold 31 distinct templates: 1 shared + 30 own");
    await published(herald.url, publisher, [
      ["topic", "https://example.com/shared/1"],
      ["data", "to all"],
    ]);
    for (const s of clients) await s.until(() => s.text.includes("data: to all"));
    for (const s of clients) s.close();
    await waitFor(() => stats().live === before.live);
    assert.ok(
      stats().idleBytes <= (1 << 20) / 8,
      `templates no stream uses keep at most an eighth of the cache (${stats().idleBytes} bytes)`,
    );
  });

  it("refuses a new template when templates in use fill the cache (503), and takes it once they are freed", async () => {
    const small = await startMercureHerald({ templateCacheBytes: 64 * 1024, maxTemplatesPerIp: 1000 });
    const local: RawStream[] = [];
    try {
      let refused: RawStream | undefined;
      for (let i = 0; i < 100 && refused === undefined; i++) {
        const s = new RawStream(`${small.url}${HUB}?topic=${encodeURIComponent(template(`t${i}`))}`);
        local.push(s);
        await s.until(() => s.status !== 0 && (s.status !== 200 || s.text.includes(":")));
        if (s.status !== 200) refused = s;
      }
      assert.ok(refused !== undefined, "the cache filled up");
      assert.equal(refused.status, 503);
      await refused.until(() => refused.closed);
      assert.match(refused.text, /HERALD_TEMPLATE_CACHE/);
      assert.ok(small.mercure.context.selectors.stats.liveBytes <= 64 * 1024);
      for (const s of local) s.close();
      await waitFor(() => small.mercure.context.selectors.stats.live === 0);
      const later = new RawStream(`${small.url}${HUB}?topic=${encodeURIComponent(template("later"))}`);
      local.push(later);
      await later.until(() => later.status !== 0);
      assert.equal(later.status, 200);
    } finally {
      for (const s of local) s.close();
      await small.close();
    }
  });
});

async function waitFor(test: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !test(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(test(), "timed out");
}
