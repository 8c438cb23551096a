import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadConfig, readConfigFile } from "../../packages/herald/src/config/settings.ts";

// Values that parse but that no one means: a duration of a few milliseconds written without a unit
// (`heartbeat: 15` is 15 ms), an origin that is no origin, a list with an empty item. Each is
// refused at start, from a flag, a variable or the file alike, with a message that says how to fix it.

const dir = mkdtempSync(join(tmpdir(), "herald-values-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function fromFile(content: string) {
  const path = join(dir, `${++files}.yaml`);
  writeFileSync(path, content);
  return loadConfig({}, {}, readConfigFile(path));
}

describe("durations: a least per setting, and a bare number under it asks for a unit", () => {
  const footguns: [string, string, string][] = [
    // file key, environment variable, the least
    ["heartbeat", "HERALD_HEARTBEAT", "100ms"],
    ["retry", "HERALD_RETRY", "100ms"],
    ["mercure-heartbeat", "MERCURE_HEARTBEAT", "100ms"],
    ["presence-heartbeat", "HERALD_PRESENCE_HEARTBEAT", "100ms"],
    ["headers-timeout", "HERALD_HEADERS_TIMEOUT", "100ms"],
    ["request-timeout", "HERALD_REQUEST_TIMEOUT", "100ms"],
    ["webhook-timeout", "HERALD_WEBHOOK_TIMEOUT", "100ms"],
    ["shutdown-timeout", "HERALD_SHUTDOWN_TIMEOUT", "100ms"],
    ["history-max-age", "HERALD_HISTORY_MAX_AGE", "1s"],
    ["jwt-leeway", "HERALD_JWT_LEEWAY", "1s"],
    ["jwks-cache", "HERALD_JWKS_CACHE", "1s"],
    ["jwks-cooldown", "HERALD_JWKS_COOLDOWN", "1s"],
    ["mercure-write-timeout", "MERCURE_WRITE_TIMEOUT", "1s"],
  ];
  for (const [key, env, least] of footguns) {
    it(`${key}: 15 is refused (15 ms), from the file and from ${env}`, () => {
      const says = new RegExp(`15 is 15 ms, under the least of ${least}; give a unit, e.g. "15s"`);
      assert.throws(
        () => fromFile(`${key}: 15\n`),
        new RegExp(`invalid "${key}" in config file \\S+: ${says.source}`),
      );
      assert.throws(
        () => loadConfig({}, { [env]: "15" }),
        new RegExp(`invalid ${env} / --${key}: ${says.source}`),
      );
    });
  }

  it("a value with a unit under the least is refused too, naming the least", () => {
    assert.throws(
      () => loadConfig({}, { HERALD_HEARTBEAT: "50ms" }),
      /invalid HERALD_HEARTBEAT \/ --heartbeat: "50ms" is under the least of 100ms/,
    );
    assert.throws(() => loadConfig({}, { HERALD_HEARTBEAT: "0s" }), /under the least of 100ms/);
    assert.throws(
      () => loadConfig({}, { MERCURE_HEARTBEAT: "0" }),
      /invalid MERCURE_HEARTBEAT \/ --mercure-heartbeat: 0 is under the least of 100ms; give at least 100ms$/,
    );
  });

  it("0 stays allowed where it means none (no limit, no wait, no leeway), and values at the least pass", () => {
    const config = loadConfig(
      {},
      {
        HERALD_HISTORY_MAX_AGE: "0",
        HERALD_JWT_LEEWAY: "0s",
        MERCURE_WRITE_TIMEOUT: "0",
        HERALD_SHUTDOWN_TIMEOUT: "0",
        HERALD_HEARTBEAT: "100ms",
        HERALD_RETRY: "1500",
        HERALD_PRESENCE_HEARTBEAT: "200ms",
      },
    );
    assert.equal(config.historyMaxAgeMs, 0);
    assert.equal(config.jwtLeewayMs, 0);
    assert.equal(config.mercureWriteTimeoutMs, 0);
    assert.equal(config.shutdownTimeoutMs, 0);
    assert.equal(config.heartbeatMs, 100);
    assert.equal(config.retryMs, 1500, "a bare number at or above the least is milliseconds, as documented");
    assert.equal(fromFile("heartbeat: 15s\nretry: 3s\n").heartbeatMs, 15_000);
  });
});

describe("origins: * or scheme://host[:port]", () => {
  for (const [key, env] of [
    ["cors-origins", "HERALD_CORS_ORIGINS"],
    ["mercure-cors-origins", "MERCURE_CORS_ORIGINS"],
    ["mercure-publish-origins", "MERCURE_PUBLISH_ORIGINS"],
  ] as const) {
    it(`${key} refuses a number, a path, a bare host, and says what an origin is`, () => {
      assert.throws(
        () => fromFile(`${key}: 5\n`),
        new RegExp(`invalid "${key}" in config file \\S+: "5" is not an origin`),
      );
      assert.throws(
        () => loadConfig({}, { [env]: "https://app.example.com/app" }),
        new RegExp(`invalid ${env} / --${key}: "https://app.example.com/app" is not an origin: .*no path`),
      );
      assert.throws(
        () => loadConfig({}, { [env]: "app.example.com" }),
        /"app.example.com" is not an origin: write it as scheme:\/\/host\[:port\], e\.g\. https:\/\/app\.example\.com/,
      );
      assert.throws(() => fromFile(`${key}: [https://a.example, "null"]\n`), /"null" is not an origin/);
    });
  }

  it("keeps *, origins with a port or a trailing slash, and writes them as a browser's Origin header does", () => {
    const config = loadConfig(
      {},
      {
        HERALD_CORS_ORIGINS: "https://App.Example.com/, http://localhost:4200, *, https://a.example:443",
        MERCURE_PUBLISH_ORIGINS: "*",
      },
    );
    assert.deepEqual(config.corsOrigins, [
      "https://app.example.com",
      "http://localhost:4200",
      "*",
      "https://a.example",
    ]);
    assert.deepEqual(config.mercurePublishOrigins, ["*"]);
    assert.deepEqual(loadConfig({}, {}).corsOrigins, [], "none by default");
  });
});

describe("lists: an empty item is refused", () => {
  it("a doubled or trailing comma names the item, in a variable and in a YAML list", () => {
    assert.throws(
      () => loadConfig({}, { HERALD_PRIVATE_TOPICS: "users/*,,billing" }),
      /invalid HERALD_PRIVATE_TOPICS \/ --private-topics: "users\/\*,,billing" has an empty item \(the 2nd\)/,
    );
    assert.throws(() => loadConfig({}, { HERALD_PRESENCE: "rooms/*," }), /has an empty item \(the 2nd\)/);
    assert.throws(
      () => fromFile('metrics-topics: [a, ""]\n'),
      /invalid "metrics-topics" in config file \S+: .*has an empty item/,
    );
    assert.deepEqual(
      loadConfig({}, { HERALD_PRIVATE_TOPICS: "" }).privateTopics,
      [],
      "no text: an empty list",
    );
    assert.deepEqual(loadConfig({}, { HERALD_PRIVATE_TOPICS: " a , b " }).privateTopics, ["a", "b"]);
  });
});

describe("other values no one means", () => {
  it("a size under its least: a bare number asks for a unit", () => {
    assert.throws(
      () => fromFile("max-body: 1\n"),
      /invalid "max-body" in config file \S+: 1 is 1 byte, under the least of 1KiB; give a unit, e.g. "1MiB"/,
    );
    assert.throws(
      () => loadConfig({}, { HERALD_MAX_BUFFERED: "10" }),
      /invalid HERALD_MAX_BUFFERED \/ --max-buffered: 10 is 10 bytes, under the least of 1KiB/,
    );
    assert.throws(
      () => loadConfig({}, { HERALD_TEMPLATE_CACHE: "1KiB" }),
      /"1KiB" is under the least of 64KiB/,
    );
    assert.throws(() => loadConfig({}, { HERALD_MAX_EVENT_SIZE: "0" }), /0 is under the least of 1 byte/);
    assert.equal(loadConfig({}, { HERALD_MAX_EVENT_SIZE: "100" }).maxEventBytes, 100);
    assert.equal(loadConfig({}, { HERALD_MAX_BODY: "2048" }).maxBodyBytes, 2048);
  });

  it("a cookie name that is empty or holds a separator, and an empty broadcast topic, are refused", () => {
    assert.throws(
      () => loadConfig({}, { HERALD_AUTH_COOKIE: "" }),
      /invalid HERALD_AUTH_COOKIE \/ --auth-cookie: ""; it accepts a cookie name/,
    );
    assert.throws(
      () => fromFile("auth-cookie: a;b\n"),
      /invalid "auth-cookie" .*: "a;b"; it accepts a cookie name/,
    );
    assert.throws(
      () => loadConfig({}, { MERCURE_COOKIE_NAME: "my cookie" }),
      /MERCURE_COOKIE_NAME .*a cookie name/,
    );
    assert.throws(
      () => fromFile('broadcast-topic: ""\n'),
      /invalid "broadcast-topic" .*: ""; it accepts a topic: any text but empty/,
    );
    assert.equal(loadConfig({}, {}).mercureCookieName, "__Secure-mercure_access_token");
  });
});

describe("values checked on their own, at load, whatever else is set (issue 13)", () => {
  it("a Mercure algorithm: one of the list in any case (spelled as listed), never none, with no key set", () => {
    const config = loadConfig({}, { MERCURE_JWT_ALG: "es384", MERCURE_SUBSCRIBER_JWT_ALG: "eddsa" });
    assert.equal(config.mercureJwtAlg, "ES384");
    assert.equal(config.mercureSubscriberJwtAlg, "EdDSA");
    assert.equal(config.mercurePublisherJwtAlg, "", "nothing: the role takes MERCURE_JWT_ALG's");
    assert.equal(loadConfig({}, {}).mercureJwtAlg, "HS256");
    assert.throws(
      () => loadConfig({}, { MERCURE_JWT_ALG: "" }),
      /invalid MERCURE_JWT_ALG \/ --mercure-jwt-alg: ""; it accepts one of HS256, HS384, HS512, RS256/,
    );
    assert.throws(
      () => loadConfig({ mercurePublisherJwtAlg: "HS265" }, {}),
      /invalid MERCURE_PUBLISHER_JWT_ALG \/ --mercure-publisher-jwt-alg: "HS265"; it accepts one of .*EdDSA \(in any case\), or nothing/,
    );
    assert.throws(
      () => fromFile("mercure-subscriber-jwt-alg: None\n"),
      /invalid "mercure-subscriber-jwt-alg" in config file \S+: "None" \(tokens without a signature\) is never accepted; use one of HS256/,
    );
  });

  it("webhook events: each among the four, named when unknown", () => {
    assert.deepEqual(loadConfig({}, { HERALD_WEBHOOK_EVENTS: "topic.vacated" }).webhookEvents, [
      "topic.vacated",
    ]);
    assert.throws(
      () => fromFile("webhook-events: [topic.occupied, subscriber.exploded]\n"),
      /invalid "webhook-events" in config file \S+: unknown event "subscriber.exploded"; choose among subscriber.connected, subscriber.disconnected, topic.occupied, topic.vacated$/,
    );
    assert.throws(
      () => loadConfig({}, { HERALD_WEBHOOK_EVENTS: "topic.occupied,nope" }),
      /invalid HERALD_WEBHOOK_EVENTS \/ --webhook-events: unknown event "nope"/,
    );
  });

  it("presence selectors: none under $", () => {
    assert.throws(
      () => fromFile("presence: [rooms/*, $presence/rooms]\n"),
      /invalid "presence" in config file \S+: "\$presence\/rooms": a selector may not begin with \$/,
    );
  });

  it("Mercure public URLs and JWKS entries: absolute http(s) URLs, credentials never shown", () => {
    assert.deepEqual(loadConfig({}, { MERCURE_PUBLIC_URLS: "https://hub.example" }).mercurePublicUrls, [
      "https://hub.example",
    ]);
    assert.throws(
      () => fromFile("mercure-public-urls: hub.example\n"),
      /invalid "mercure-public-urls" in config file \S+: "hub.example" is not an absolute http\(s\) URL with a host/,
    );
    assert.deepEqual(loadConfig({}, { MERCURE_JWKS: "https://idp=https://idp/jwks" }).mercureJwks, [
      "https://idp=https://idp/jwks",
    ]);
    for (const entry of ["no-equals-sign", "=https://idp/jwks", "idp=jwks.json"]) {
      assert.throws(
        () => fromFile(`mercure-jwks: "${entry}"\n`),
        /invalid "mercure-jwks" in config file \S+: ".*" is not <issuer>=<JWKS URL>/,
        entry,
      );
    }
    assert.throws(
      () => loadConfig({}, { MERCURE_JWKS: "idp=https://user:s3cret@" }),
      (error: Error) => error.message.includes('"idp=https://***@"') && !error.message.includes("s3cret"),
    );
  });

  it("jwt-secret: key material is no secret (a JWK, a URL), and the refusal never shows the text", () => {
    const jwk = '{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQ"}';
    assert.throws(
      () => fromFile(`jwt-secret: '${jwk}'\n`),
      (error: Error) =>
        /^invalid "jwt-secret" in config file \S+: the value is a JWK \(JSON Web Key\), but it takes an HS256 shared secret/.test(
          error.message,
        ) && !error.message.includes("c2VjcmV0"),
    );
    assert.throws(
      () => loadConfig({}, { HERALD_JWT_SECRET: "https://idp.example/jwks.json" }),
      /invalid HERALD_JWT_SECRET \/ --jwt-secret: the value is a URL/,
    );
    assert.equal(
      loadConfig({}, { HERALD_JWT_SECRET: "a-secret-a-secret-a-secret-a-secret" }).jwtSecret.length,
      35,
    );
  });

  it("a bus URL the broker would not take names the file and its key", () => {
    assert.throws(
      () => fromFile("bus: redis://h:6379/abc\n"),
      /invalid "bus" in config file \S+: the database in "redis:\/\/h:6379\/abc" must be a number/,
    );
  });
});
