import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { httpRequest, RawStream, startTestHerald } from "../helpers/herald.ts";

/**
 * docs/http-api.md `data` and docs/wire-format.md: a JSON `data` that is no string is delivered as
 * the publisher wrote it, made compact (whitespace outside strings removed; numbers and string
 * escapes unchanged), on POST /publish, POST /publish/batch and POST /broadcast alike; the member
 * read is the one JSON.parse keeps (the last of duplicate keys, a key written with escapes).
 */
describe("publish: data is delivered as written, made compact", () => {
  let herald: Herald;
  let stream: RawStream;
  before(async () => {
    herald = await startTestHerald();
    stream = new RawStream(`${herald.url}/events?topic=t&topic=broadcast`);
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

  const post = (path: string, body: string) =>
    httpRequest(`${herald.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });

  it("POST /publish: pretty-printed data, escapes, a key written with escapes, duplicate keys", async () => {
    const cases: [string, string][] = [
      [
        '{\n  "topic": "t",\n  "data": {\n    "a b": [ 1.50 , -0, 1E+2 ],\n    "s": "x  \\u00e9\\/"\n  }\n}',
        '{"a b":[1.50,-0,1E+2],"s":"x  \\u00e9\\/"}',
      ],
      ['{"topic":"t","d\\u0061ta":{"v": 1.0}}', '{"v":1.0}'],
      ['{"topic":"t","data":{"v":1},"data":[ 2.0 ]}', "[2.0]"],
      ['{"topic":"t","data":"a string:  sent \\u00e9 decoded"}', "a string:  sent é decoded"],
      ['{"topic":"t","data": 12345678901234567891 }', "12345678901234567891"],
    ];
    for (const [body, expected] of cases) {
      const answer = await post("/publish", body);
      assert.equal(answer.status, 200, answer.text);
      assert.equal(await delivered((answer.body as { id: string }).id), expected, body);
    }
  });

  it("POST /publish/batch: each event's data as written, in a pretty-printed batch", async () => {
    const answer = await post(
      "/publish/batch",
      '{ "events" : [\n {"topic":"t","data":{ "n": 1.50 }},\n {"data":[ 1e400 ],"topic":"t"} ] }',
    );
    assert.equal(answer.status, 200, answer.text);
    const [first, second] = (answer.body as { results: { id: string }[] }).results;
    assert.equal(await delivered(first?.id as string), '{"n":1.50}');
    assert.equal(await delivered(second?.id as string), "[1e400]");
  });

  it("POST /broadcast: the body as written, made compact", async () => {
    const answer = await post("/broadcast", '{ "bc" : [ 1.50, "a  b" ] }');
    assert.equal(answer.status, 200, answer.text);
    await stream.until(() => /^data: \{"bc":/m.test(stream.text));
    assert.match(stream.text, /^data: \{"bc":\[1\.50,"a {2}b"\]\}$/m);
  });
});
