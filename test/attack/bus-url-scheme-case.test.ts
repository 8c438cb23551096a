import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../packages/herald/src/config/load.ts";
import { runUntilExit } from "../helpers/start-failure.ts";

/**
 * Commit 632918c (issue 13): "values checked on their own are checked as values, at load, from a
 * flag, a variable or the file alike"; config/kinds.ts `bus`: a Redis or RabbitMQ URL is checked
 * "in full" (buses/redis-url.ts, buses/amqp-url.ts), and "never a password in a log line" (the
 * refusals show URLs with their credentials hidden: `redis://u:***@h`).
 *
 * URL schemes are case-insensitive (RFC 3986 3.1). Found in an attack round (2026-12-03):
 * `isRedisUrl`/`isAmqpUrl` matched lowercase only, while the `bus` kind's fallback
 * (`new URL(value).protocol`, which lowercases) accepted `Redis://...` / `AMQP://...`: the broker
 * checks were skipped, the config loaded, and the start then failed in createBus with "unknown
 * bus" and the URL as given: the password in the fatal log line. The scheme is now lowercased.
 */
describe("attack: a bus URL with an upper-case scheme", () => {
  it("is checked at load like its lower-case form (refused with the same reason)", () => {
    const load = (bus: string) => () => loadConfig({}, { HERALD_BUS: bus });
    assert.throws(load("redis://h:1/zz"), /database/); // the control
    assert.throws(load("Redis://h:1/zz"), /database/, "Redis://h:1/zz passes the config check");
  });

  it("never prints the broker password when the start fails", async () => {
    const { code, output } = await runUntilExit(
      [],
      // refused at load (no such database): the refusal names the URL, its password hidden
      { HERALD_BUS: "Redis://user:s3cret-pw@127.0.0.1:1/zz" },
      30_000,
    );
    assert.notEqual(code, "running", output);
    assert.doesNotMatch(output, /s3cret-pw/, `the password is in the log: ${output.slice(0, 400)}`);
  });
});
