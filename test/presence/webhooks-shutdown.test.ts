import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { RawStream } from "../helpers/herald.ts";
import { type HeraldProcess, spawnHerald } from "../helpers/process.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";
import { until } from "../helpers/waiters.ts";
import { Receiver, SECRET } from "../helpers/webhook-receiver.ts";

/**
 * A herald process stopped gracefully (SIGTERM) tells the webhook receiver that its streams went
 * away: `subscriber.disconnected` for each and `topic.vacated` for each topic it emptied, sent
 * before it exits, within the shutdown deadline (HERALD_SHUTDOWN_TIMEOUT); a receiver that never
 * answers does not hold the stop past it (docs/webhooks.md).
 */
describe("webhooks on graceful shutdown (SIGTERM)", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function start(receiver: Receiver): Promise<HeraldProcess> {
    await receiver.start();
    cleanups.push(() => receiver.close());
    const herald = await spawnHerald([
      ...["--jwt-secret", TEST_SECRET, "--presence", "room/*", "--presence-heartbeat", "200ms"],
      ...["--webhook-url", receiver.url, "--webhook-secret", SECRET, "--shutdown-timeout", "2s"],
    ]);
    cleanups.push(async () => {
      if (herald.child.exitCode === null && herald.child.signalCode === null) {
        process.kill(herald.child.pid as number, "SIGKILL");
        await herald.exited;
      }
    });
    return herald;
  }

  async function openStream(herald: HeraldProcess, sub: string, topic: string): Promise<RawStream> {
    const stream = new RawStream(
      `${herald.url}/events?topic=${topic}`,
      bearer(await heraldToken({}, { subject: sub })),
    );
    cleanups.push(() => stream.close());
    await stream.opened();
    return stream;
  }

  it("sends subscriber.disconnected and topic.vacated for the streams it ends", async () => {
    const receiver = new Receiver();
    const herald = await start(receiver);
    await openStream(herald, "erin", "room/1");
    await openStream(herald, "finn", "room/2");
    await until(() => receiver.of("topic.occupied", "room/2").length === 1, "topic.occupied", 10_000);
    await until(() => receiver.of("subscriber.connected", "room/2").length === 1, "connected", 10_000);

    herald.child.kill("SIGTERM");
    assert.equal(await herald.exited, 0, herald.output());
    const seen = JSON.stringify(receiver.deliveries);
    for (const [topic, sub] of [
      ["room/1", "erin"],
      ["room/2", "finn"],
    ] as const) {
      assert.deepEqual(
        receiver.of("subscriber.disconnected", topic).map((d) => d.sub),
        [sub],
        seen,
      );
      assert.equal(receiver.of("topic.vacated", topic).length, 1, seen);
    }
    assert.deepEqual(receiver.rejected, []);
  });

  it("stops within the shutdown deadline when the receiver never answers", async () => {
    const receiver = new Receiver(0, true);
    const herald = await start(receiver);
    await openStream(herald, "gus", "room/3");
    await until(() => receiver.requests >= 1, "a first webhook call", 10_000);
    herald.child.kill("SIGTERM");
    assert.equal(await herald.exited, 0, herald.output());
  });
});
