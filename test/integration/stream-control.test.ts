import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, publish, RawStream, startTestHerald } from "../helpers/herald.ts";
import { ControlledClient, postJson, switchWhilePublishing } from "../helpers/stream-control.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";

const OPENING = /^: ok\n\nretry: \d+\n\nevent: herald\.stream\ndata: (\{.*\})\n\n/;
const STREAM_ID = /^[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{22}$/;

describe("live subscription changes, tickets and token renewal (one process)", () => {
  let herald: Herald;
  const closers: (() => void)[] = [];
  before(async () => {
    herald = await startTestHerald({ jwtSecret: TEST_SECRET, maxTopics: 3 });
  });
  after(async () => {
    for (const close of closers) close();
    await herald.close();
  });
  const raw = (path: string, headers: Record<string, string> = {}) => {
    const stream = new RawStream(`${herald.url}${path}`, headers);
    closers.push(() => stream.close());
    return stream;
  };
  const client = (path: string, headers: Record<string, string> = {}) => {
    const c = new ControlledClient(`${herald.url}${path}`, headers);
    closers.push(() => c.close());
    return c;
  };
  const openingOf = async (stream: RawStream) => {
    await stream.until(() => OPENING.test(stream.text));
    return JSON.parse((OPENING.exec(stream.text) as RegExpExecArray)[1] as string) as {
      id: string;
      topics: string[];
    };
  };

  it("announces the stream's id and topics before anything else on /events, not on /stream or without announce=1", async () => {
    const stream = raw("/events?announce=1&topic=a&topic=b/*&topic=a");
    const opening = await openingOf(stream);
    assert.match(opening.id, STREAM_ID);
    assert.deepEqual(opening.topics, ["a", "b/*"]);
    const other = await openingOf(raw("/events?announce=1&topic=a"));
    assert.notEqual(other.id, opening.id);
    const plain = raw("/events?topic=a");
    const seed = raw("/stream");
    await seed.opened();
    await publish(herald.url, { topic: "a", data: "x" });
    await stream.until(() => stream.text.includes("data: x"));
    await plain.until(() => plain.text.includes("data: x"));
    assert.doesNotMatch(seed.text, /herald\.stream/);
    assert.doesNotMatch(plain.text, /herald\.stream/, "no id unless asked (announce=1)");
  });

  it("switches topics a -> a+b -> b while events flow: each event of the topics in effect once, in order", async () => {
    const c = client("/events?announce=1&topic=a");
    await switchWhilePublishing(c, [herald.url], (id) => `${herald.url}/streams/${id}/topics`);
  });

  it("refuses bad changes with a clear answer and changes nothing", async () => {
    const stream = raw("/events?announce=1&topic=a");
    const { id } = await openingOf(stream);
    const url = `${herald.url}/streams/${id}/topics`;
    const unknown = await postJson(`${herald.url}/streams/${id.slice(0, 9)}AAAAAAAAAAAAAAAAAAAAAA/topics`, {
      add: ["b"],
    });
    assert.equal(unknown.status, 404);
    assert.match(String(unknown.body.message), /stream/);
    for (const body of [
      { add: "b" },
      { add: [""] },
      {},
      { remove: ["a"] },
      { add: ["b", "c", "d"] },
      { add: ["b"], remove: ["b"] }, // in both: which one wins is no answer
    ]) {
      const answer = await postJson(url, body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.ok(typeof answer.body.message === "string" && answer.body.message.length > 10);
    }
    const reserved = await postJson(url, { add: ["$herald/control"] });
    assert.equal(reserved.status, 400);
    // nor may a stream open on it: its records reach no subscriber, the stream would wait forever
    const opened = await httpRequest(
      `${herald.url}/events?topic=a&topic=${encodeURIComponent("$herald/control")}`,
    );
    assert.equal(opened.status, 400);
    assert.match(
      String((opened.body as { message?: unknown }).message),
      /\$herald\/control.*subscribe to another/,
    );
    const ok = await postJson(url, { add: ["b"], remove: [] });
    assert.deepEqual(ok, { status: 200, body: { id, topics: ["a", "b"] } });
  });

  it("needs the stream's own token; private events follow the token's claim", async () => {
    const token = await heraldToken({ subscribe: ["p"] }, { subject: "alice" });
    const other = await heraldToken({ subscribe: ["p"] }, { subject: "alice", claims: { jti: "2" } });
    const stream = raw("/events?announce=1&topic=a", bearer(token));
    const { id } = await openingOf(stream);
    const url = `${herald.url}/streams/${id}/topics`;
    assert.equal((await postJson(url, { add: ["p"] })).status, 401);
    const wrong = await postJson(url, { add: ["p"] }, bearer(other));
    assert.equal(wrong.status, 403);
    assert.match(String(wrong.body.message), /token/);
    assert.equal((await postJson(url, { add: ["p"] }, bearer(token))).status, 200);
    const anonymous = raw("/events?announce=1&topic=a");
    const anonymousId = (await openingOf(anonymous)).id;
    assert.equal(
      (await postJson(`${herald.url}/streams/${anonymousId}/topics`, { add: ["p"] }, bearer(token))).status,
      403,
    );
    assert.equal((await postJson(`${herald.url}/streams/${anonymousId}/topics`, { add: ["p"] })).status, 200);
    const admin = await heraldToken({ publish: ["*"] });
    await httpRequest(`${herald.url}/publish`, {
      method: "POST",
      headers: { ...bearer(admin), "content-type": "application/json" },
      body: JSON.stringify({ topic: "p", data: "secret", private: true }),
    });
    await publish(herald.url, { topic: "p", data: "public" });
    await stream.until(() => stream.text.includes("data: public"));
    await anonymous.until(() => anonymous.text.includes("data: public"));
    assert.match(stream.text, /data: secret/);
    assert.doesNotMatch(anonymous.text, /data: secret/);
  });

  it("a ticket opens one /events stream with the token's grants, once", async () => {
    const token = await heraldToken({ subscribe: ["p"] }, { subject: "bob", expiresInSec: 600 });
    assert.equal((await postJson(`${herald.url}/tickets`, {})).status, 401);
    const issued = await postJson(`${herald.url}/tickets`, {}, bearer(token));
    assert.equal(issued.status, 200);
    assert.equal(issued.body.expiresIn, 30);
    const ticket = issued.body.ticket as string;
    assert.ok(ticket.length >= 22 && !ticket.includes(token.slice(0, 20)));
    // HEAD answers what GET would and opens no stream: the ticket stays unused (twice over)
    for (let i = 0; i < 2; i++) {
      const head = await httpRequest(`${herald.url}/events?topic=p&ticket=${encodeURIComponent(ticket)}`, {
        method: "HEAD",
      });
      assert.equal(head.status, 200);
      assert.match(String(head.headers["content-type"]), /text\/event-stream/);
    }
    assert.equal(
      (await httpRequest(`${herald.url}/events?topic=p&ticket=nope`, { method: "HEAD" })).status,
      401,
    );
    const stream = raw(`/events?announce=1&topic=p&ticket=${encodeURIComponent(ticket)}`);
    await openingOf(stream);
    const again = await httpRequest(`${herald.url}/events?topic=p&ticket=${encodeURIComponent(ticket)}`);
    assert.equal(again.status, 401);
    assert.match(String((again.body as { message: string }).message), /ticket.*(used|once)/i);
    const bogus = await httpRequest(`${herald.url}/events?topic=p&ticket=nope`);
    assert.equal(bogus.status, 401);
    const admin = await heraldToken({ publish: ["*"] });
    await httpRequest(`${herald.url}/publish`, {
      method: "POST",
      headers: { ...bearer(admin), "content-type": "application/json" },
      body: JSON.stringify({ topic: "p", data: "for-bob", private: true }),
    });
    await stream.until(() => stream.text.includes("data: for-bob"));
    // the ticket's stream is changed with the token that asked for the ticket
    const { id } = await openingOf(stream);
    assert.equal(
      (await postJson(`${herald.url}/streams/${id}/topics`, { add: ["q"] }, bearer(token))).status,
      200,
    );
  });

  it("renews a stream's token without reconnecting; an unrenewed stream still ends at its token's expiry", async () => {
    const short = await heraldToken({ subscribe: ["p"] }, { subject: "carol", expiresInSec: 2 });
    const renewed = raw("/events?announce=1&topic=a", bearer(short));
    const left = raw("/events?announce=1&topic=a", bearer(short));
    const { id } = await openingOf(renewed);
    await openingOf(left);
    const url = `${herald.url}/streams/${id}/token`;
    const stranger = await heraldToken({ subscribe: ["p"] }, { subject: "dave", expiresInSec: 600 });
    const denied = await postJson(url, {}, bearer(stranger));
    assert.equal(denied.status, 403);
    assert.match(String(denied.body.message), /sub/);
    const fewer = await heraldToken({ subscribe: [] }, { subject: "carol", expiresInSec: 600 });
    const narrow = await postJson(url, {}, bearer(fewer));
    assert.equal(narrow.status, 403);
    assert.match(String(narrow.body.message), /grant|subscribe/);
    const fresh = await heraldToken({ subscribe: ["p"] }, { subject: "carol", expiresInSec: 600 });
    const extra = await postJson(url, { token: "x" }, bearer(fresh)); // the token goes in the header
    assert.equal(extra.status, 400, JSON.stringify(extra.body));
    assert.match(String(extra.body.message), /Authorization/);
    const answer = await postJson(url, {}, bearer(fresh));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body.id, id);
    await left.until(() => left.closed, 10_000);
    assert.match(left.text, /token expired/);
    await publish(herald.url, { topic: "a", data: "after-expiry" });
    await renewed.until(() => renewed.text.includes("data: after-expiry"));
    assert.equal(renewed.closed, false);
    // the renewed token now changes the stream's topics
    assert.equal(
      (await postJson(`${herald.url}/streams/${id}/topics`, { add: ["b"] }, bearer(fresh))).status,
      200,
    );
  });
});
