import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, startTestHerald } from "../helpers/herald.ts";

/**
 * COMMON rule: bad input gets a clear error (status + what is wrong). `GET /events` refuses a
 * topic with a control character (400); `GET /presence?topic=` takes it and answers 200 with a
 * topic no stream can ever have.
 */
describe("GET /presence refuses a topic GET /events would refuse", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({ presence: ["rooms/*"] });
  });
  after(async () => {
    await herald.close();
  });

  it("answers 400 for a topic with a control character, as GET /events does", async () => {
    const events = await httpRequest(`${herald.url}/events?topic=rooms/%00`);
    assert.equal(events.status, 400, events.text);
    const presence = await httpRequest(`${herald.url}/presence?topic=rooms/%00`);
    assert.equal(presence.status, 400, presence.text);
  });
});
