import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, configWith, type HeraldConfig, startHerald } from "herald";

/**
 * Promise (docs/embedding.md): `configWith(overrides)`: "every setting not given takes the `herald`
 * command's default"; "a `ConfigError` names them"; docs/configuration.md gives each setting's
 * accepted values (`--heartbeat`/`--retry`: "duration, at least 100ms"; `--history-size`: a count;
 * `--log-level`: "fatal, error, warn, info, debug, trace or silent"); COMMON rule: bad input gets
 * a message that says what is wrong and how to fix it, and nothing else changes.
 *
 * Found in an attack round (2026-12-03), with `herald` imported by its package name as a user
 * does: `configWith` checks only the rules between settings, so values the command refuses, all
 * of the types `HeraldConfig` declares (numbers, strings), go through:
 * - `heartbeatMs: 0` (or negative) starts a hub that writes `: heartbeat` to every stream as fast as
 *   its timer fires (hundreds a second), where the command refuses anything under 100 ms;
 * - `retryMs: -1` starts a hub that tells every client `retry: 0` (reconnect at once: a storm);
 * - `historySize: 0` fails at start with "RangeError: history maxEvents must be at least 1" (an
 *   internal name, no `historySize`, no ConfigError);
 * - `logLevel: "loud"` fails with pino's "default level:loud must be included in custom levels".
 * A ConfigError naming the setting and what it accepts, from `configWith` or `startHerald`, is what
 * `loadConfig` and the command give for the same values.
 */

/** The error `configWith(overrides)` throws, or `startHerald` rejects with; undefined when the hub started (then closed). */
async function refusal(overrides: Partial<HeraldConfig>): Promise<unknown> {
  let config: HeraldConfig;
  try {
    config = configWith({ port: 0, host: "127.0.0.1", logLevel: "silent", ...overrides });
  } catch (error) {
    return error;
  }
  try {
    const herald = await startHerald(config);
    await herald.close();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe("attack: herald as a library: configWith takes values the command refuses", () => {
  const cases: [string, Partial<HeraldConfig>, RegExp][] = [
    ["heartbeatMs: 0 (a heartbeat flood)", { heartbeatMs: 0 }, /heartbeat/i],
    ["retryMs: -1 (retry: 0 sent to every client)", { retryMs: -1 }, /retry/i],
    ["historySize: 0", { historySize: 0 }, /historySize|history-size|HERALD_HISTORY_SIZE/],
    ["logLevel: loud", { logLevel: "loud" }, /logLevel|log-level|HERALD_LOG_LEVEL/],
  ];
  for (const [name, overrides, names] of cases) {
    it(`${name}: a ConfigError that names the setting`, async () => {
      const error = await refusal(overrides);
      assert.ok(
        error instanceof ConfigError,
        `a ConfigError, got ${error === undefined ? "a hub that started" : String(error)}`,
      );
      assert.match(error.message, names);
    });
  }
});
