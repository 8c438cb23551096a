import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, RawStream } from "../helpers/herald.ts";
import { HUB, published } from "./helpers.ts";
import { accessToken, detail, resourceOf, startModernHerald } from "./v1-helpers.ts";

const FORM = "application/x-www-form-urlencoded";

/**
 * Spec "Subscription": a hub MAY accept a safe method carrying the matchers in the body, notably
 * QUERY; the body is then application/x-www-form-urlencoded, and the hub takes the union of the
 * query component's pairs and the body's (`last_event_id`: the query's wins, the header wins over
 * both).
 */
describe("Mercure 1.0: subscribing with QUERY (matchers in the body)", () => {
  let herald: Herald;
  let publisher: string;
  const streams: RawStream[] = [];

  before(async () => {
    herald = await startModernHerald({ maxTopics: 3, maxBodyBytes: 2048 });
    publisher = await accessToken(resourceOf(herald.url), [detail(["publish"], ["*"])]);
  });
  after(async () => {
    for (const stream of streams) stream.close();
    await herald.close();
  });

  /** A QUERY subscription: `query` goes in the URL, `body` in the body. */
  async function query(
    search: string,
    body: string,
    headers: Record<string, string> = { "content-type": FORM },
  ): Promise<RawStream> {
    const stream = new RawStream(`${herald.url}${HUB}${search}`, headers, false, { method: "QUERY", body });
    streams.push(stream);
    await stream.until(() => stream.status !== 0);
    return stream;
  }
  const publish = (topic: string, data: string) =>
    published(herald.url, publisher, [
      ["topic", topic],
      ["data", data],
    ]);

  it("subscribes to the union of the matchers of the query component and of the body", async () => {
    const body = new URLSearchParams([
      ["match", "https://example.com/q/body"],
      ["match_urlpattern", "https://example.com/q/pattern/:id"],
    ]).toString();
    const stream = await query(`?match=${encodeURIComponent("https://example.com/q/url")}`, body);
    assert.equal(stream.status, 200, stream.text);
    assert.match(String(stream.headers["content-type"]), /^text\/event-stream/);
    await stream.opened();
    await publish("https://example.com/q/other", "other");
    await publish("https://example.com/q/url", "from-url");
    await publish("https://example.com/q/body", "from-body");
    await publish("https://example.com/q/pattern/7", "from-pattern");
    await stream.until(() => stream.text.includes("data: from-pattern"));
    assert.deepEqual(
      [...stream.text.matchAll(/^data: (.*)$/gm)].map((m) => m[1]),
      ["from-url", "from-body", "from-pattern"],
    );
  });

  it("resumes from last_event_id in the body; the query's wins over the body's, the header over both", async () => {
    const topic = "https://example.com/q/resume";
    const first = await publish(topic, "r1");
    const second = await publish(topic, "r2");
    await publish(topic, "r3");
    const inBody = await query(
      "",
      new URLSearchParams([
        ["match", topic],
        ["last_event_id", first],
      ]).toString(),
    );
    assert.equal(inBody.headers["mercure-last-event-id"], first);
    await inBody.until(() => inBody.text.includes("data: r3"));
    assert.doesNotMatch(inBody.text, /data: r1/);
    assert.match(inBody.text, /data: r2/);

    const both = await query(
      `?last_event_id=${encodeURIComponent(second)}`,
      new URLSearchParams([
        ["match", topic],
        ["last_event_id", first],
      ]).toString(),
    );
    assert.equal(both.headers["mercure-last-event-id"], second, "the query component's last_event_id wins");
    await both.until(() => both.text.includes("data: r3"));
    assert.doesNotMatch(both.text, /data: r2/);

    const header = await query(
      `?last_event_id=${encodeURIComponent(first)}`,
      new URLSearchParams([
        ["match", topic],
        ["last_event_id", first],
      ]).toString(),
      { "content-type": FORM, "last-event-id": second },
    );
    assert.equal(header.headers["mercure-last-event-id"], second, "the Last-Event-ID header wins");
  });

  it("refuses a body that is not a form (415), a bad matcher or too many in the union (400), a body over HERALD_MAX_BODY (413)", async () => {
    const cases: [string, string, Record<string, string>, number, RegExp][] = [
      [
        "",
        '{"match":"a"}',
        { "content-type": "application/json" },
        415,
        /application\/x-www-form-urlencoded/,
      ],
      ["", "Match=a", { "content-type": FORM }, 400, /unknown subscribe parameter "Match"/],
      ["", "match=a%01", { "content-type": FORM }, 400, /control or format character/],
      ["", "match=%C3%28", { "content-type": FORM }, 400, /not valid UTF-8/],
      ["", "last_event_id=x", { "content-type": FORM }, 400, /missing "match"/],
      ["?match=a&match=b", "match=c&match=d", { "content-type": FORM }, 400, /at most 3 matchers/],
      ["", `match=${"a".repeat(3000)}`, { "content-type": FORM }, 413, /2048/],
    ];
    for (const [search, body, headers, status, message] of cases) {
      const answer = await httpRequest(`${herald.url}${HUB}${search}`, { method: "QUERY", headers, body });
      assert.equal(answer.status, status, `${search} ${body.slice(0, 40)}: ${answer.text}`);
      assert.match(answer.text, message, body.slice(0, 40));
    }
    const raw = await httpRequest(`${herald.url}${HUB}`, {
      method: "QUERY",
      headers: { "content-type": FORM },
      body: new Uint8Array([0x6d, 0x61, 0x74, 0x63, 0x68, 0x3d, 0xff]), // "match=" and a byte that is no UTF-8
    });
    assert.equal(raw.status, 400, raw.text);
    assert.match(raw.text, /UTF-8/);
    const untyped = await httpRequest(`${herald.url}${HUB}`, {
      method: "QUERY",
      body: new TextEncoder().encode("match=a"), // bytes: fetch adds no Content-Type
    });
    assert.equal(untyped.status, 415, untyped.text);
    assert.match(untyped.text, /Content-Type is missing/);
  });

  it("a QUERY without a body is a GET (the query component alone), and QUERY is in Allow", async () => {
    const stream = await query("?match=a", "", {});
    assert.equal(stream.status, 200, stream.text);
    const options = await httpRequest(`${herald.url}${HUB}`, { method: "OPTIONS" });
    assert.match(String(options.headers.allow), /\bQUERY\b/);
  });
});
