import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, type JsonResponse, publish, RawStream, startTestHerald } from "../helpers/herald.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";

const BURST = 3;

/**
 * The control rate (docs/limits.md): every request that appends a control record to the bus log
 * (POST /tickets, POST /streams/{id}/topics, POST /streams/{id}/token, GET /events?ticket=) takes
 * from a token bucket per token subject (per IP without a token). Past it: 429, Retry-After, a
 * message naming the setting; other keys and ordinary publishing are untouched.
 */
describe("control rate (HERALD_CONTROL_RATE 1/s, HERALD_CONTROL_BURST 3)", () => {
  let herald: Herald;
  const closers: (() => void)[] = [];
  before(async () => {
    herald = await startTestHerald({ jwtSecret: TEST_SECRET, controlRate: 1, controlBurst: BURST });
  });
  after(async () => {
    for (const close of closers) close();
    await herald.close();
  });

  const ticket = (token: string) =>
    httpRequest(`${herald.url}/tickets`, { method: "POST", headers: bearer(token) });
  const change = (id: string, body: unknown, token?: string) =>
    httpRequest(`${herald.url}/streams/${id}/topics`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token === undefined ? {} : bearer(token)) },
      body: JSON.stringify(body),
    });
  const assertLimited = (answer: JsonResponse) => {
    assert.equal(answer.status, 429, answer.text);
    assert.match(String(answer.headers["retry-after"]), /^[1-9]\d*$/);
    const { message } = answer.body as { message: string };
    assert.match(message, /HERALD_CONTROL_RATE/);
    assert.match(message, /retry in \d+s/);
  };
  const streamId = async (query: string, headers: Record<string, string> = {}) => {
    const stream = new RawStream(`${herald.url}/events?announce=1&${query}`, headers);
    closers.push(() => stream.close());
    await stream.until(() => /"id":"([^"]+)"/.test(stream.text));
    return (/"id":"([^"]+)"/.exec(stream.text) as RegExpExecArray)[1] as string;
  };

  it("limits POST /tickets per token subject; another subject still gets tickets", async () => {
    const alice = await heraldToken({ subscribe: ["news"] }, { subject: "alice" });
    for (let i = 0; i < BURST; i++) assert.equal((await ticket(alice)).status, 200);
    const refused = await ticket(alice);
    assertLimited(refused);
    assert.match((refused.body as { message: string }).message, /ticket/);
    const bob = await heraldToken({ subscribe: ["news"] }, { subject: "bob" });
    assert.equal((await ticket(bob)).status, 200);
    // publishing has its own limit: untouched
    assert.equal((await publish(herald.url, { topic: "news", data: "still" })).status, 200);
  });

  it("limits POST /streams/{id}/topics of an anonymous stream per client IP", async () => {
    const id = await streamId("topic=x");
    for (let i = 0; i < BURST; i++) {
      const answer = await change(id, i % 2 === 0 ? { add: ["y"] } : { remove: ["y"] });
      assert.equal(answer.status, 200, answer.text);
    }
    assertLimited(await change(id, { add: ["z"] }));
    // refused ticket redemptions append records too: same client IP, same bucket
    assertLimited(await httpRequest(`${herald.url}/events?topic=x&ticket=forged`));
  });

  it("limits POST /streams/{id}/token and changes of a token's stream per subject", async () => {
    const carol = await heraldToken({ subscribe: ["news"] }, { subject: "carol" });
    const id = await streamId("topic=news", bearer(carol));
    const renewed = await httpRequest(`${herald.url}/streams/${id}/token`, {
      method: "POST",
      headers: bearer(carol),
    });
    assert.equal(renewed.status, 200, renewed.text);
    assert.equal((await change(id, { add: ["a"] }, carol)).status, 200);
    assert.equal((await change(id, { remove: ["a"] }, carol)).status, 200);
    assertLimited(
      await httpRequest(`${herald.url}/streams/${id}/token`, { method: "POST", headers: bearer(carol) }),
    );
    assertLimited(await change(id, { add: ["b"] }, carol));
  });

  it("refuses a change naming more topics than HERALD_MAX_TOPICS before it costs a record", async () => {
    const dave = await heraldToken({ subscribe: ["news"] }, { subject: "dave" });
    const id = await streamId("topic=news", bearer(dave));
    const many = Array.from({ length: 33 }, (_, i) => `t${i}`);
    const tooMany = await change(id, { add: many }, dave);
    assert.equal(tooMany.status, 400, tooMany.text);
    assert.match(tooMany.text, /HERALD_MAX_TOPICS/);
  });
});
