import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type HeraldNode, startNode } from "../helpers/cluster.ts";
import { RawStream } from "../helpers/herald.ts";
import { until } from "../helpers/waiters.ts";
import { Receiver, SECRET } from "../helpers/webhook-receiver.ts";

/**
 * Promise (docs/webhooks.md, docs/configuration.md): `--webhook-url` takes an http:// or https://
 * URL; a value Herald cannot use refuses to start with a message naming the setting ("invalid
 * HERALD_WEBHOOK_URL / --webhook-url ...", as for `ftp://` or `file://`), and a started Herald
 * POSTs each presence change to the URL.
 *
 * Observed (attack round, 2026-12-02): a URL with credentials (`http://user:pw@host/hook`, the usual
 * way to give a receiver behind Basic auth) is accepted at start, then every call fails inside
 * Herald before any byte is sent: Node's fetch refuses such URLs ("Request cannot be constructed
 * from a URL that includes credentials"). Each event is retried 6 times and given up; the receiver
 * never hears of anything, and nothing said so at start.
 * Herald now sends the credentials as `Authorization: Basic` (percent-decoded, as the URL spells
 * them) to the URL without them, and never logs them.
 */
describe("a webhook URL with user:password@", () => {
  const receiver = new Receiver();
  let node: HeraldNode | undefined;
  let startError: Error | undefined;
  before(async () => {
    await receiver.start();
    const url = receiver.url.replace("http://", "http://hook-user:p%40ss%3Aword@");
    try {
      node = await startNode("memory", [
        ...["--presence", "rooms/*", "--presence-heartbeat", "200ms"],
        ...["--webhook-url", url, "--webhook-secret", SECRET, "--webhook-attempts", "2"],
      ]);
    } catch (error) {
      startError = error as Error;
    }
  });
  after(async () => {
    await node?.kill("SIGTERM");
    await receiver.close();
  });

  it("delivers with the credentials as Basic auth, and never logs them", async () => {
    assert.equal(startError, undefined, startError?.message);
    const started = node as HeraldNode;
    const stream = new RawStream(`${started.url}/events?topic=rooms/1`);
    try {
      await stream.until(() => stream.text.includes(": ok"));
      await until(
        () => receiver.requests > 0 || /webhook given up/.test(started.output()),
        "a webhook call or its give-up",
        15_000,
      );
    } finally {
      stream.close();
    }
    const givenUp = /.*webhook given up.*/.exec(started.output())?.[0];
    assert.ok(
      receiver.requests > 0,
      `Herald started with this URL but no call reached the receiver; its log: ${givenUp ?? started.output().slice(-600)}`,
    );
    await until(() => receiver.deliveries.length > 0, "a verified delivery");
    const basic = `Basic ${Buffer.from("hook-user:p@ss:word").toString("base64")}`;
    assert.ok(
      receiver.authorizations.every((a) => a === basic),
      receiver.authorizations.join(", "),
    );
    assert.doesNotMatch(started.output(), /p%40ss|p@ss/, "a log line holds the password");
  });
});
