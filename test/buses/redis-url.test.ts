import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createBus, redactBusUrl } from "../../packages/herald/src/buses/index.ts";
import { RedisBus } from "../../packages/herald/src/buses/redis.ts";
import { parseRedisUrl } from "../../packages/herald/src/buses/redis-url.ts";
import { ConfigError, loadConfig } from "../../packages/herald/src/config/settings.ts";
import { HeraldError } from "../../packages/herald/src/core/errors.ts";
import { freePort } from "../helpers/brokers.ts";

describe("--bus for a replicated Redis (redis+sentinel://, redis+cluster://, ?wait=)", () => {
  it("accepts the Sentinel and Cluster forms, with Herald's wait and wait-timeout", () => {
    const sentinel = parseRedisUrl(
      "redis+sentinel://u:p%40ss@s1:26379,s2:26380/mymaster/2?wait=2&wait-timeout=500ms",
    );
    assert.deepEqual(sentinel, {
      mode: "sentinel",
      nodes: [
        { host: "s1", port: 26379 },
        { host: "s2", port: 26380 },
      ],
      masterName: "mymaster",
      database: 2,
      username: "u",
      password: "p@ss",
      wait: 2,
      waitTimeoutMs: 500,
    });
    const cluster = parseRedisUrl("redis+cluster://10.0.0.1:7000,10.0.0.2:7001");
    assert.deepEqual(cluster, {
      mode: "cluster",
      nodes: [
        { host: "10.0.0.1", port: 7000 },
        { host: "10.0.0.2", port: 7001 },
      ],
      database: 0,
      wait: "auto",
      waitTimeoutMs: 2000,
    });
    const single = parseRedisUrl("redis://127.0.0.1:6379/3?wait=0&wait-timeout=2s");
    assert.equal(single.mode, "single");
    assert.equal(single.url, "redis://127.0.0.1:6379/3", "Herald's parameters are not passed to node-redis");
    assert.equal(single.wait, 0);
    assert.equal(single.waitTimeoutMs, 2000);
    for (const bus of ["redis+sentinel://s1:26379/m", "redis+cluster://c1:7000", "redis://r:6379?wait=1"])
      assert.equal(loadConfig({ bus }, {}).bus, bus);
    // presence runs on every Redis form (docs/presence.md), TLS ones included
    for (const bus of ["redis+sentinel://s1:26379/m", "rediss+cluster://c1:7000?tls-ca=/ca.pem"])
      assert.deepEqual(loadConfig({ bus, presence: "rooms/*" }, {}).presence, ["rooms/*"]);
  });

  it("refuses a malformed one at start (exit 1), saying what is wrong and what it accepts", () => {
    const cases: [string, RegExp][] = [
      ["redis+sentinel://s1:26379", /needs the primary's name/],
      ["redis+sentinel://s1:26379/m/x", /only a database number/],
      ["redis+sentinel://s1/m", /"s1" in the redis\+sentinel URL is not host:port/],
      ["redis+cluster://c1:7000/1", /only database 0/],
      ["redis+cluster://c1:7000?wait=two", /wait=two: give the number of replicas/],
      ["redis://r:6379?wait-timeout=soon", /wait-timeout=soon: give a duration/],
      ["redis://r:6379?wiat=1", /unknown parameter "wiat"/],
    ];
    for (const [bus, why] of cases) {
      assert.throws(
        () => loadConfig({ bus }, {}),
        (error: unknown) =>
          error instanceof ConfigError &&
          /HERALD_BUS \/ --bus/.test(error.message) &&
          why.test(error.message) &&
          /redis\+sentinel:\/\/host:port,host:port\/<master name>/.test(error.message),
        bus,
      );
    }
  });

  it("logs never show the password of a Sentinel or Cluster URL", () => {
    assert.equal(
      redactBusUrl("redis+sentinel://herald:s3cret@s1:26379,s2:26379/m"),
      "redis+sentinel://herald:***@s1:26379,s2:26379/m",
    );
    assert.equal(
      redactBusUrl("redis+cluster://:s3cret@c1:7000,c2:7001"),
      "redis+cluster://:***@c1:7000,c2:7001",
    );
    // the parser takes the last "@" before the hosts: a raw "@" or "/" in a password is still hidden
    assert.equal(redactBusUrl("redis://u:p@ss/w@r1:6379/0"), "redis://u:***@r1:6379/0");
    assert.equal(redactBusUrl("redis+sentinel://:a@b@s1:26379/m"), "redis+sentinel://:***@s1:26379/m");
  });

  it("takes the Sentinels' own credentials (sentinel-username/-password) apart from the nodes'", () => {
    const target = parseRedisUrl(
      "redis+sentinel://u:nodes@s1:26379,s2:26380/m?sentinel-username=watch&sentinel-password=a%2Bb%40c%26%3D+d&wait=0",
    );
    assert.equal(target.username, "u");
    assert.equal(target.password, "nodes");
    assert.equal(target.sentinelUsername, "watch");
    assert.equal(target.sentinelPassword, "a+b@c&=+d", "percent-decoded, and a raw + stays a plus");
    assert.equal(target.wait, 0);
    assert.equal(parseRedisUrl("redis+sentinel://s1:26379/m").sentinelPassword, undefined, "default: none");
    const cases: [string, RegExp][] = [
      ["redis://r:6379?sentinel-password=x", /only a redis\+sentinel:\/\/ URL takes them/],
      ["redis+cluster://c1:7000?sentinel-password=x", /only a redis\+sentinel:\/\/ URL takes them/],
      ["redis+sentinel://s1:26379/m?sentinel-username=w", /sentinel-username needs sentinel-password/],
      ["redis+sentinel://s1:26379/m?sentinel-password=a&sentinel-password=b", /given twice/],
    ];
    for (const [bus, why] of cases) assert.throws(() => parseRedisUrl(bus), why, bus);
  });

  it("speaks TLS on the rediss forms, with an optional CA file (tls-ca=)", () => {
    assert.deepEqual(parseRedisUrl("rediss+sentinel://s1:26379/m").tls, {});
    assert.deepEqual(parseRedisUrl("rediss+cluster://c1:7000?tls-ca=/etc/ca.pem").tls, {
      caFile: "/etc/ca.pem",
    });
    const single = parseRedisUrl("rediss://r:6380/1?tls-ca=%2Fetc%2Fca.pem");
    assert.equal(single.url, "rediss://r:6380/1");
    assert.deepEqual(single.tls, { caFile: "/etc/ca.pem" });
    assert.equal(parseRedisUrl("redis+sentinel://s1:26379/m").tls, undefined);
    for (const bus of ["rediss+sentinel://s1:26379/m", "rediss+cluster://c1:7000"])
      assert.equal(loadConfig({ bus }, {}).bus, bus);
    assert.throws(() => parseRedisUrl("redis+cluster://c1:7000?tls-ca=/ca.pem"), /use rediss\+cluster:\/\//);
    assert.throws(() => parseRedisUrl("rediss://r:6380?tls-ca="), /tls-ca= is empty/);
  });

  it("never shows the Sentinels' password (sentinel-password=) in logs or messages", () => {
    assert.equal(
      redactBusUrl("redis+sentinel://u:pw@s1:26379/m?wait=1&sentinel-password=p%40ss&sentinel-username=w"),
      "redis+sentinel://u:***@s1:26379/m?wait=1&sentinel-password=***&sentinel-username=w",
    );
    // a raw "@" in it does not end the user's part
    assert.equal(
      redactBusUrl("redis+sentinel://s1:26379/m?sentinel-password=a@b"),
      "redis+sentinel://s1:26379/m?sentinel-password=***",
    );
    for (const bus of [
      "redis+sentinel://s1:26379/m?sentinel-password=s3cret&bogus=1",
      "redis+sentinel://s1:26379/m?sentinel-password=s3cret%",
      "redis+sentinel://u:pa?s3cret@s1:26379/m", // a raw "?" in the nodes' password
    ])
      assert.throws(
        () => parseRedisUrl(bus),
        (error: unknown) => error instanceof Error && !error.message.includes("s3cret"),
        bus,
      );
  });

  it("with no Sentinel or cluster node answering: not ready with the reason, publishes refused with retry-after", async () => {
    const [a, b] = [await freePort(), await freePort()];
    const history = { maxEvents: 10, maxAgeMs: 0 };
    for (const [url, where] of [
      [
        `redis+sentinel://127.0.0.1:${a},127.0.0.1:${b}/m`,
        /the primary "m" of the Sentinels at 127\.0\.0\.1:\d+,127\.0\.0\.1:\d+ is unreachable/,
      ],
      [
        `redis+cluster://127.0.0.1:${a},127.0.0.1:${b}`,
        /the Redis Cluster at 127\.0\.0\.1:\d+,127\.0\.0\.1:\d+ is unreachable/,
      ],
    ] as const) {
      assert.ok(createBus({ bus: url, history }) instanceof RedisBus);
      const bus = new RedisBus({ url, history, startWaitMs: 200, deliveryWaitMs: 200 });
      // (the tail's retries use unref'd timers: a server's listening socket keeps the process up)
      const alive = setInterval(() => {}, 1000);
      await bus.start(() => {});
      assert.equal(bus.status().ready, false);
      assert.match(bus.status().reason ?? "", where);
      await assert.rejects(
        bus.append([{ topics: ["t"], data: "x" }]),
        (error: unknown) =>
          error instanceof HeraldError && error.code === "unavailable" && error.retryAfterSeconds === 2,
      );
      await bus.close();
      clearInterval(alive);
    }
  });
});
