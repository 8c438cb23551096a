import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, publish, RawStream, startTestHerald } from "../helpers/herald.ts";

/**
 * docs/http-api.md (`POST /publish/batch`): "All or nothing: one bad event answers 400 naming it
 * (`events[3]: ...`) and nothing is stored." Found in an attack round (2026-12-03): every other
 * refusal of one event names it (`events[1]: ...`), but an event whose `id` has the form of an id
 * the hub makes (`<epoch>-<n>` of the running log, refused by `refuseHubIds`, core/ids.ts, called
 * from the bus's `checkIds` after the route's per-event checks) is answered without its index, so
 * the client of a batch of thousands cannot tell which event to fix. And since that check runs
 * after the batch took its N publishes (api/publish-batch.ts: `Access.publishBatch` before
 * `hub.publish`), the refused batch costs all N of them, where docs/limits.md says "a batch takes
 * the other N - 1 once its body is read and valid" ("malformed requests cost one too").
 */
describe("attack: a batch event with a hub-form id is refused without naming it", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald();
  });
  after(async () => {
    await herald.close();
  });

  it("answers 400 naming events[1], and stores nothing", async () => {
    const stream = new RawStream(`${herald.url}/events?topic=t`);
    await stream.opened();
    const first = await publish(herald.url, { topic: "t", data: "first" });
    const epoch = (first.body as { id: string }).id.split("-")[0] as string;
    const answer = await httpRequest(`${herald.url}/publish/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        events: [
          { topic: "t", data: "ok" },
          { topic: "t", data: "bad", id: `${epoch}-99` },
        ],
      }),
    });
    assert.equal(answer.status, 400, answer.text);
    const after = await publish(herald.url, { topic: "t", data: "last" });
    await stream.until(() => stream.text.includes("data: last"));
    stream.close();
    assert.doesNotMatch(stream.text, /data: ok/, "nothing of a refused batch is stored");
    assert.equal(after.status, 200);
    assert.match(
      (answer.body as { message: string }).message,
      /^events\[1\]: /,
      `the refusal must name the bad event, as every other batch refusal does; got ${answer.text}`,
    );
  });
});

describe("attack: a batch refused for a hub-form id costs every one of its events", () => {
  let herald: Herald;
  before(async () => {
    herald = await startTestHerald({ publishRate: 1, publishBurst: 10 });
  });
  after(async () => {
    await herald.close();
  });

  it("costs one publish, as any malformed request: the 8 left after it still pass", async () => {
    const first = await publish(herald.url, { topic: "t", data: "first" }); // 9 left
    const epoch = (first.body as { id: string }).id.split("-")[0] as string;
    const events = Array.from({ length: 8 }, (_, i) => ({ topic: "t", data: i }));
    const refused = await httpRequest(`${herald.url}/publish/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ events: [{ ...events[0], id: `${epoch}-99` }, ...events.slice(1)] }),
    });
    assert.equal(refused.status, 400, refused.text); // 8 left: it costs one, like any malformed request
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await publish(herald.url, { topic: "t", data: i })).status);
    assert.deepEqual(
      statuses,
      Array(8).fill(200),
      "a batch refused as invalid must not take its other N - 1 publishes (docs/limits.md)",
    );
  });
});
