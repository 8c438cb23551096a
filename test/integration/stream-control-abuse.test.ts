import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, publish, RawStream, startTestHerald } from "../helpers/herald.ts";
import { TEST_SECRET } from "../helpers/tokens.ts";

/** What an anonymous client can do with the stream-control routes (docs/streams.md), from outside. */
describe("stream control under abuse (one process)", () => {
  let herald: Herald;
  const closers: (() => void)[] = [];
  before(async () => {
    herald = await startTestHerald({ jwtSecret: TEST_SECRET, historySize: 4 });
  });
  after(async () => {
    for (const close of closers) close();
    await herald.close();
  });

  it("an anonymous flood of tickets and changes evicts nobody's history", async () => {
    const first = (await publish(herald.url, { topic: "h", data: "one" })).body as { id: string };
    await publish(herald.url, { topic: "h", data: "two" });
    // each refused ticket and each change appends a control record to the log
    const own = new RawStream(`${herald.url}/events?announce=1&topic=x`);
    closers.push(() => own.close());
    await own.until(() => /"id":"([^"]+)"/.test(own.text));
    const id = (/"id":"([^"]+)"/.exec(own.text) as RegExpExecArray)[1] as string;
    for (let i = 0; i < 6; i++) {
      assert.equal((await httpRequest(`${herald.url}/events?topic=h&ticket=forged${i}`)).status, 401);
      const change = await httpRequest(`${herald.url}/streams/${id}/topics`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(i % 2 === 0 ? { add: ["y"] } : { remove: ["y"] }),
      });
      assert.equal(change.status, 200);
    }
    const resumed = new RawStream(`${herald.url}/events?topic=h`, { "last-event-id": first.id });
    closers.push(() => resumed.close());
    await resumed.until(() => resumed.text.includes("data: two") || resumed.text.includes("herald.missed"));
    assert.doesNotMatch(resumed.text, /herald\.missed/);
  });
});
