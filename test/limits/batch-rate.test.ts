import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, RawStream, startTestHerald } from "../helpers/herald.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";

const RATE = 10;
const BURST = 20;

describe("POST /publish/batch: the publish rate limit counts events, not requests", () => {
  let herald: Herald;
  let stream: RawStream;
  before(async () => {
    herald = await startTestHerald({
      jwtSecret: TEST_SECRET,
      allowAnonymousPublish: false,
      publishRate: RATE,
      publishBurst: BURST,
    });
    stream = new RawStream(`${herald.url}/events?topic=b`);
    await stream.opened();
  });
  after(async () => {
    stream.close();
    await herald.close();
  });

  const batch = (token: string, events: number, tag: string) =>
    httpRequest(`${herald.url}/publish/batch`, {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer(token) },
      body: JSON.stringify({
        events: Array.from({ length: events }, (_, i) => ({ topic: "b", data: "x", id: `${tag}-${i}` })),
      }),
    });

  it("a batch of N takes N publishes; one larger than what is left gets 429 + Retry-After and stores nothing", async () => {
    const token = await heraldToken({ publish: ["*"] }, { subject: "batcher" });
    const first = await batch(token, 15, "first");
    assert.equal(first.status, 200, first.text);
    const second = await batch(token, 15, "second");
    assert.equal(second.status, 429, second.text);
    assert.match((second.body as { message: string }).message, /HERALD_PUBLISH_RATE/);
    assert.match(
      (second.body as { message: string }).message,
      /this batch of 15 events counts as 15 publishes/,
    );
    const retryAfter = Number(second.headers["retry-after"]);
    assert.ok(retryAfter >= 1, `Retry-After: ${second.headers["retry-after"]}`);
    // the refused batch cost nothing: the 5 publishes left are still there
    const rest = await batch(token, 5, "rest");
    assert.equal(rest.status, 200, rest.text);
    // another publisher is not limited by this one, and the refused batch stored nothing
    const other = await batch(await heraldToken({ publish: ["*"] }, { subject: "other" }), 1, "other");
    assert.equal(other.status, 200, other.text);
    await stream.until(() => stream.ids().includes("other-0"));
    assert.equal(
      stream.ids().filter((id) => id.startsWith("second-")).length,
      0,
      "nothing of the refused batch",
    );
    assert.equal(stream.ids().filter((id) => id.startsWith("first-")).length, 15);
    assert.equal(stream.ids().filter((id) => id.startsWith("rest-")).length, 5);
  });

  it("a batch larger than HERALD_PUBLISH_BURST can never pass: 413 saying so", async () => {
    const token = await heraldToken({ publish: ["*"] }, { subject: "too-big" });
    const answer = await batch(token, BURST + 1, "big");
    assert.equal(answer.status, 413, answer.text);
    assert.match(
      (answer.body as { message: string }).message,
      new RegExp(`${BURST + 1} events.*HERALD_PUBLISH_BURST \\(${BURST}\\).*at most ${BURST} events`),
    );
  });

  it("one token sending batch after batch gets no more events in than the rate allows", async () => {
    const token = await heraldToken({ publish: ["*"] }, { subject: "flooder" });
    const started = Date.now();
    let accepted = 0;
    for (let i = 0; i < 30; i++) {
      const answer = await batch(token, 10, `flood${i}`);
      if (answer.status === 200) accepted += 10;
      else assert.equal(answer.status, 429, answer.text);
    }
    const allowed = BURST + RATE * ((Date.now() - started) / 1000);
    assert.ok(accepted <= allowed, `${accepted} events accepted, at most ${allowed} allowed`);
  });
});
