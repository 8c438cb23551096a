import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { RawStream } from "../helpers/herald.ts";
import { HUB, published } from "./helpers.ts";
import { accessToken, detail, resourceOf, startModernHerald } from "./v1-helpers.ts";

const HISTORY = 4;
const PAYROLL = "https://example.com/payroll";
const SANDBOX = "https://example.com/sandbox";

/**
 * Promise (docs/concepts.md "Ids"): the id of an update that left the history (evicted) makes a
 * resume `earliest` (`herald.missed`, `unknown-id`) only for a subscriber that could have read
 * that update; for any other, the id resolves as if that update had never been. HEAD and GET of
 * the Mercure stream give the same answer.
 *
 * Found in an attack round (2026-12-02, docs/concepts.md "Known limit"): a publisher that guessed
 * the id of another publisher's private update published a public update with that id, let the
 * private one be evicted, and asked HEAD with the guess: `Mercure-Last-Event-ID: earliest` when the
 * guess was right, the guess otherwise. So it learnt that the private update existed.
 */
describe("Mercure 1.0: resuming from an id whose private update was evicted", () => {
  let herald: Herald;
  let payroll: string;
  let attacker: string;
  let run = 0;
  before(async () => {
    herald = await startModernHerald({ historySize: HISTORY });
    payroll = await accessToken(resourceOf(herald.url), [detail(["publish", "subscribe"], [PAYROLL])], {
      sub: "urn:test:payroll",
    });
    attacker = await accessToken(resourceOf(herald.url), [detail(["publish"], [SANDBOX])], {
      sub: "urn:test:attacker",
    });
  });
  after(() => herald.close());

  /**
   * Publishes a private payroll update with id `secret`, the attacker's public sandbox update with
   * id `guess`, then sandbox fillers until the payroll one is evicted (the attacker's is the oldest
   * held). Answers the fillers' data.
   */
  const evict = async (secret: string, guess: string): Promise<string[]> => {
    const tag = `${++run}-${Date.now().toString(36)}`;
    await published(herald.url, payroll, [
      ["topic", PAYROLL],
      ["id", secret],
      ["data", `salaries ${tag}`],
      ["private", "on"],
    ]);
    await published(herald.url, attacker, [
      ["topic", SANDBOX],
      ["id", guess],
      ["data", `own ${tag}`],
    ]);
    const fillers: string[] = [];
    for (let i = 1; i < HISTORY; i++) {
      fillers.push(`filler ${i} ${tag}`);
      await published(herald.url, attacker, [
        ["topic", SANDBOX],
        ["data", `filler ${i} ${tag}`],
      ]);
    }
    return fillers;
  };
  const query = (id: string) => `${HUB}?${new URLSearchParams({ match: SANDBOX, last_event_id: id })}`;
  const head = async (id: string, headers: Record<string, string> = {}) => {
    const answer = await fetch(`${herald.url}${query(id)}`, { method: "HEAD", headers });
    assert.equal(answer.status, 200);
    return answer.headers.get("mercure-last-event-id");
  };
  /** The data of the stream's events once `n` arrived (or a `herald.missed`). */
  const get = async (id: string, n: number): Promise<string[]> => {
    const stream = new RawStream(`${herald.url}${query(id)}`);
    try {
      await stream.opened();
      const datas = () => [...stream.text.matchAll(/^data: (.*)$/gm)].map((m) => m[1] as string);
      await stream.until(() => stream.text.includes("herald.missed") || datas().length >= n);
      return stream.text.includes("herald.missed") ? ["herald.missed"] : datas();
    } finally {
      stream.close();
    }
  };

  it("a right guess answers HEAD and GET as a wrong one: the guess is the resume point", async () => {
    const right = `urn:payroll:layoffs:${++run}`;
    const rightFillers = await evict(right, right);
    assert.equal(await head(right), right, "HEAD of a right guess");
    assert.deepEqual(await get(right, rightFillers.length), rightFillers, "GET of a right guess");
    const wrong = `urn:payroll:layoffs:${++run}`;
    const wrongFillers = await evict(`urn:other:${run}`, wrong);
    assert.equal(await head(wrong), wrong, "HEAD of a wrong guess");
    assert.deepEqual(await get(wrong, wrongFillers.length), wrongFillers, "GET of a wrong guess");
  });

  it("a subscriber that could read the evicted private update is answered earliest", async () => {
    const id = `urn:payroll:run:${++run}`;
    await evict(id, id);
    const reader = await accessToken(resourceOf(herald.url), [detail(["subscribe"], [SANDBOX, PAYROLL])]);
    assert.equal(await head(id, { authorization: `Bearer ${reader}` }), "earliest");
  });
});
