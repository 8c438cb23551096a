/**
 * The same auth whatever the process mode (issue 13): with no key configured, `--workers 1` and the
 * default workers print a dev token that publishes on Herald's API, and both refuse Mercure
 * publishing with the same answer (Mercure needs its own issuer and key).
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { type HeraldProcess, spawnHerald, spawnWorkers, stopHerald } from "../helpers/process.ts";

function devToken(herald: HeraldProcess): string {
  const match = /"token":"([^"]+)"/.exec(herald.output());
  assert.ok(match, `the dev token is logged: ${herald.output()}`);
  return match[1] as string;
}

async function answers(herald: HeraldProcess) {
  const token = devToken(herald);
  const auth = { authorization: `Bearer ${token}` };
  const herald200 = await fetch(`${herald.url}/publish`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ topic: "news", data: "hi" }),
  });
  const mercure = await fetch(`${herald.url}/.well-known/mercure`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/x-www-form-urlencoded" },
    body: "topic=news&data=hi",
  });
  return { publish: herald200.status, mercure: mercure.status, mercureText: await mercure.text() };
}

describe("auth with no key configured, in every process mode", () => {
  const started: HeraldProcess[] = [];
  after(async () => {
    for (const h of started) await stopHerald(h);
  });
  const env = { HERALD_ALLOW_ANONYMOUS_PUBLISH: "false", HERALD_JWT_SECRET: "", MERCURE_JWT_KEY: "" };

  test("--workers 1 and --workers 2 answer alike: the dev token publishes, Mercure publishing is refused the same way", async () => {
    const one = await spawnHerald([], env);
    started.push(one);
    const two = await spawnWorkers(2, env);
    started.push(two);
    const [a, b] = [await answers(one), await answers(two)];
    assert.equal(a.publish, 200);
    assert.deepEqual(b, a);
    assert.equal(a.mercure, 401);
    assert.match(a.mercureText, /Mercure publishing is off/);
  });
});
