import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, RawStream, startTestHerald } from "../helpers/herald.ts";

/**
 * docs/http-api.md (`POST /publish`, `data`): "any JSON value; a string is sent as is, any other
 * value as its JSON text"; docs/wire-format.md: "any other JSON value as its compact JSON text";
 * README/concepts: nothing acknowledged is lost. Found in an attack round (2026-12-03): the body is
 * parsed into JS numbers and serialized again (api/publish-body.ts `JSON.stringify(record.data)`,
 * api/seed.ts for /broadcast), so a valid JSON number outside a double's range or precision is
 * acknowledged (200) and delivered as another value: `1e400` arrives as `null`, the 64-bit id
 * `12345678901234567891` as `12345678901234567000`. A user checks that what the stream carries is
 * what was published (or that the publish is refused, 400, saying why): neither holds today. Worse,
 * the retry check compares the re-serialized data: a publisher's correction under the same id
 * (`9007199254740992` after `9007199254740993`: other content, "a new event" per
 * docs/concepts.md "Retries are per publisher") is answered 200 as a retry and never delivered.
 */
describe("attack: a JSON number in data is delivered as another value", () => {
  let herald: Herald;
  let stream: RawStream;
  before(async () => {
    herald = await startTestHerald();
    stream = new RawStream(`${herald.url}/events?topic=nums&topic=broadcast`);
    await stream.opened();
  });
  after(async () => {
    stream.close();
    await herald.close();
  });

  /** The data line of the event `id` on the stream. */
  async function delivered(id: string): Promise<string> {
    await stream.until(() => stream.text.includes(`id: ${id}\n`));
    const block = stream.text.split("\n\n").find((b) => b.startsWith(`id: ${id}\n`)) as string;
    return (/^data: (.*)$/m.exec(block)?.[1] ?? "") as string;
  }

  for (const [name, body, expected] of [
    [
      "a 64-bit integer",
      '{"topic":"nums","data":{"order":12345678901234567891}}',
      '{"order":12345678901234567891}',
    ],
    ["a number beyond a double's range", '{"topic":"nums","data":{"big":1e400}}', '{"big":1e400}'],
  ] as const) {
    it(`POST /publish: ${name} arrives as sent, or the publish is refused (400)`, async () => {
      const answer = await httpRequest(`${herald.url}/publish`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      if (answer.status === 400) return; // refusing what cannot be carried exactly is fine
      assert.equal(answer.status, 200, answer.text);
      const id = (answer.body as { id: string }).id;
      assert.equal(await delivered(id), expected, "the acknowledged data was altered on the way");
    });
  }

  it("a new value under a reused id is no retry: both publishes are delivered (docs: your id with other content is a new event)", async () => {
    const send = (value: string) =>
      httpRequest(`${herald.url}/publish`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: `{"topic":"nums","id":"price-1","data":{"v":${value}}}`,
      });
    const first = await send("9007199254740993");
    const second = await send("9007199254740992"); // another value: a correction, not a retry
    if (first.status === 400 || second.status === 400) return; // refusing what cannot be carried exactly is fine
    assert.equal(first.status, 200, first.text);
    assert.equal(second.status, 200, second.text);
    const marker = await httpRequest(`${herald.url}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"topic":"nums","data":"marker"}',
    });
    await delivered((marker.body as { id: string }).id);
    const values = [...stream.text.matchAll(/^id: price-1\ndata: (.*)$/gm)].map((m) => m[1]);
    assert.deepEqual(
      values,
      ['{"v":9007199254740993}', '{"v":9007199254740992}'],
      "both acknowledged publishes must reach the stream, each with its own value",
    );
  });

  it("POST /publish/batch: a 64-bit integer arrives as sent, or the batch is refused (400)", async () => {
    const answer = await httpRequest(`${herald.url}/publish/batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"events":[{"topic":"nums","data":{"order":12345678901234567891}}]}',
    });
    if (answer.status === 400) return;
    assert.equal(answer.status, 200, answer.text);
    const id = (answer.body as { results: { id: string }[] }).results[0]?.id as string;
    assert.equal(await delivered(id), '{"order":12345678901234567891}');
  });
  it("POST /broadcast (the seed's API): a 64-bit integer arrives as sent, or the body is refused (400)", async () => {
    const answer = await httpRequest(`${herald.url}/broadcast`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"bcast":12345678901234567891}',
    });
    if (answer.status === 400) return;
    assert.equal(answer.status, 200, answer.text);
    await stream.until(() => /^data: \{"bcast":/m.test(stream.text));
    assert.match(
      stream.text,
      /^data: \{"bcast":12345678901234567891\}$/m,
      "the acknowledged body was altered",
    );
  });
});
