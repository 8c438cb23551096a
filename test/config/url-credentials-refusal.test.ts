import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../packages/herald/src/config/settings.ts";
import { endpointOf } from "../../packages/herald/src/http/url-credentials.ts";

/**
 * Attack round 2 (2026-12-02). Promise (http/url-credentials.ts, a739ed5): the `user:password@` of
 * --webhook-url / --jwks-url travel as Basic auth and "the credentials never are" logged.
 *
 * Was (fixed): a URL the config's `url` kind refuses (no host, a space, a bad IPv6 literal...) is quoted
 * whole in the refusal, which Herald logs as its fatal line at start: the password is in the log.
 * And a password with a percent-encoding that is not UTF-8 (`%E9`) passes the config check, then
 * endpointOf throws a bare URIError: Herald stops with "cannot start: URI malformed", naming no
 * setting.
 */
describe("webhook and JWKS credentials in start-up refusals", () => {
  const bad = [
    "http://alice:hunter2@", // no host
    "http://alice:hunter2@[x", // not a host
    "http://alice:hunter2@hooks.example.com/a b", // a space
  ];
  for (const [env, flag] of [
    ["HERALD_WEBHOOK_URL", "webhook"],
    ["HERALD_JWKS_URL", "jwks"],
  ] as const) {
    for (const url of bad) {
      it(`${env}=${url}: refused without the password in the message`, () => {
        const extra = flag === "webhook" ? { HERALD_WEBHOOK_SECRET: "s", HERALD_PRESENCE: "rooms/*" } : {};
        assert.throws(
          () => loadConfig({}, { [env]: url, ...extra }),
          (error: Error) => {
            assert.doesNotMatch(error.message, /hunter2/, `the refusal logs the password: ${error.message}`);
            return true;
          },
        );
      });
    }
  }

  it("a password percent-encoded as no UTF-8: refused by the config naming the setting, or used as is", () => {
    const url = "http://alice:%E9hunter2@hooks.example.com/hook";
    let accepted = true;
    try {
      loadConfig({}, { HERALD_WEBHOOK_URL: url, HERALD_WEBHOOK_SECRET: "s", HERALD_PRESENCE: "rooms/*" });
    } catch {
      accepted = false;
    }
    if (accepted)
      assert.doesNotThrow(() => endpointOf(url), "the config took the URL, then endpointOf throws URIError");
  });
});
