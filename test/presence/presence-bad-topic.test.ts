import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, startTestHerald } from "../helpers/herald.ts";
import { heraldToken, TEST_SECRET } from "../helpers/tokens.ts";

/**
 * `GET /presence?topic=` takes the topics `GET /events` takes, and nothing else (bad input gets a
 * clear 400), and on a private topic (`--private-topics`) it names subscribers only to a token
 * that grants the topic, even when anonymous subscribers are allowed.
 */
describe("GET /presence: what it refuses, and private topics", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({
      jwtSecret: TEST_SECRET,
      presence: ["rooms/*", "staff/*"],
      privateTopics: ["staff/*"],
    });
  });
  after(async () => {
    await herald.close();
  });

  it("answers 400 for a topic GET /events refuses (control character, too long), and for two topics", async () => {
    for (const query of ["topic=rooms/%00", `topic=rooms/${"x".repeat(5000)}`]) {
      const events = await httpRequest(`${herald.url}/events?${query}`);
      assert.equal(events.status, 400, events.text);
      const presence = await httpRequest(`${herald.url}/presence?${query}`);
      assert.equal(presence.status, 400, presence.text);
    }
    const two = await httpRequest(`${herald.url}/presence?topic=rooms/1&topic=rooms/2`);
    assert.equal(two.status, 400, two.text);
    assert.match(two.text, /one topic/);
  });

  it("lists who is on a private topic only to a token that grants it", async () => {
    const open = await httpRequest(`${herald.url}/presence?topic=rooms/1`);
    assert.equal(open.status, 200, open.text);
    const anonymous = await httpRequest(`${herald.url}/presence?topic=staff/1`);
    assert.equal(anonymous.status, 401, anonymous.text);
    assert.match(anonymous.text, /private topic/);
    const other = await heraldToken({ subscribe: ["rooms/*"] });
    const refused = await httpRequest(`${herald.url}/presence?topic=staff/1`, {
      headers: { authorization: `Bearer ${other}` },
    });
    assert.equal(refused.status, 403, refused.text);
    const staff = await heraldToken({ subscribe: ["staff/*"] });
    const granted = await httpRequest(`${herald.url}/presence?topic=staff/1`, {
      headers: { authorization: `Bearer ${staff}` },
    });
    assert.equal(granted.status, 200, granted.text);
  });

  it("refuses a topic with a lone surrogate in a publish (no URL can name it)", async () => {
    const token = await heraldToken({ publish: ["*"] });
    const res = await httpRequest(`${herald.url}/publish`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: '{"topic":"rooms/\\ud800","data":"x"}',
    });
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, /lone surrogate/);
  });
});
