import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { publish, type StateChange, subscribe } from "../../packages/herald-client/src/index.ts";
import { spawnHerald, stopHerald } from "../helpers/process.ts";
import { until } from "../helpers/waiters.ts";

/**
 * Promise (docs/client.md "Reconnecting"): "Delays: exponential backoff with equal jitter: the
 * n-th retry waits a random time in `[d/2, d]`, `d = min(maxDelayMs, base × 2^(n-1))`. `base` is
 * the server's `retry:`"; Herald itself never hints under 100 ms (`--retry`: "duration, at least
 * 100ms", docs/configuration.md).
 *
 * Found in an attack round (2026-12-03): any publisher of a topic can set `retry: 0` on an event
 * (POST /publish takes "0 or more"). Every SDK subscriber of the topic then takes 0 as its backoff
 * base (`Backoff.setBase`), and `0 × 2^n` is 0 for ever: when the hub goes away, each client
 * retries at once, again and again, with no growth and no jitter, a reconnect storm of every
 * subscriber against the hub as it comes back (and a hot loop in each page), set off by one event.
 * The delays the SDK reports (`onStateChange` `reconnecting` `delayMs`) stay 0.
 */
describe("attack: sdk: an event with retry: 0 turns the backoff off", () => {
  it("after the hub goes away, the reconnect delays still back off (not all 0)", async () => {
    const herald = await spawnHerald([], { HERALD_RETRY: "100ms" });
    const delays: number[] = [];
    let got = 0;
    const sub = subscribe({
      url: herald.url,
      topics: ["t"],
      initialDelayMs: 100,
      onEvent: () => got++,
      onStateChange: (change: StateChange) => {
        if (change.state === "reconnecting") delays.push(change.delayMs ?? -1);
      },
    });
    try {
      await until(() => sub.streamId !== undefined, "the stream");
      await publish({ url: herald.url, topic: "t", data: "hello", retry: 0 });
      await until(() => got === 1, "the event");
      await stopHerald(herald);
      await until(() => delays.length >= 8, "eight reconnect attempts", 60_000);
      assert.ok(
        delays.slice(0, 8).some((ms) => ms > 0),
        `the delays back off: got ${JSON.stringify(delays.slice(0, 8))}`,
      );
    } finally {
      sub.close();
      if (herald.child.exitCode === null) await stopHerald(herald);
    }
  });
});
