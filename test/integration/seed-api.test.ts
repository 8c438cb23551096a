import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, startTestHerald } from "../helpers/herald.ts";
import { RecordingClient } from "../helpers/sse-client.ts";

describe("the seed article's /stream + /broadcast contract", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald();
  });
  after(() => herald.close());

  it("broadcasts a JSON body as data: <json> to every /stream client and answers the seed's JSON", async () => {
    const one = new RecordingClient(`${herald.url}/stream`);
    const two = new RecordingClient(`${herald.url}/stream`);
    await Promise.all([one.opened(), two.opened()]);
    // curl -d sends application/x-www-form-urlencoded: the seed accepted it, so does Herald.
    const res = await httpRequest(`${herald.url}/broadcast`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: '{"message": "hi"}',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { success: true, code: 200 });
    await Promise.all([one.until(() => one.events.length === 1), two.until(() => two.events.length === 1)]);
    for (const client of [one, two]) {
      // What the seed's Angular component does: JSON.parse(message.data).message
      assert.equal(JSON.parse(client.datas()[0] as string).message, "hi");
      client.close();
    }
  });

  it("answers 400 in the seed's shape when the body is not JSON", async () => {
    const res = await httpRequest(`${herald.url}/broadcast`, { method: "POST", body: "hello there" });
    assert.equal(res.status, 400);
    const body = res.body as { success: boolean; code: number; message: string };
    assert.equal(body.success, false);
    assert.equal(body.code, 400);
    assert.match(body.message, /not valid JSON/);
  });

  it("broadcasts reach /events subscribers of the broadcast topic too", async () => {
    const client = new RecordingClient(`${herald.url}/events?topic=broadcast`);
    await client.opened();
    await httpRequest(`${herald.url}/broadcast`, { method: "POST", body: '{"n":1}' });
    await client.until(() => client.events.length === 1);
    assert.deepEqual(client.datas(), ['{"n":1}']);
    client.close();
  });
});
