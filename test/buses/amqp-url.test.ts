import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAmqpUrl } from "../../packages/herald/src/buses/amqp-url.ts";
import { redactBusUrl } from "../../packages/herald/src/buses/index.ts";
import { ConfigError, loadConfig } from "../../packages/herald/src/config/settings.ts";

describe("--bus for a RabbitMQ cluster (amqp://user:pass@host:port,host:port/vhost)", () => {
  it("takes every node of a cluster, with the first one's credentials, vhost and parameters", () => {
    assert.deepEqual(parseAmqpUrl("amqp://u:p@r1:5672,r2:5673,r3/prod?heartbeat=10"), {
      url: "amqp://u:p@r1:5672/prod?heartbeat=10",
      hosts: ["r1:5672", "r2:5673", "r3:5672"],
    });
    assert.deepEqual(parseAmqpUrl("amqps://u:p@r1"), { url: "amqps://u:p@r1", hosts: ["r1:5671"] });
    const bus = "amqp://u:p@r1:5672,r2:5673/v";
    assert.equal(loadConfig({ bus }, {}).bus, bus);
  });

  it("refuses a malformed one at start, saying what it accepts", () => {
    for (const bus of ["amqp://u:p@r1:5672,,r2:5673/v", "amqp://u:p@r1:x/v", "amqp://u:p@r 1/v"]) {
      assert.throws(
        () => loadConfig({ bus }, {}),
        (error: unknown) =>
          error instanceof ConfigError &&
          /HERALD_BUS \/ --bus/.test(error.message) &&
          /amqp:\/\/user:pass@host:port,host:port,host:port\/vhost for a cluster/.test(error.message),
        bus,
      );
    }
  });

  it("logs in as guest/guest when the URL has no user, as the AMQP URI spec's defaults say", () => {
    assert.deepEqual(parseAmqpUrl("amqp://127.0.0.1:5672"), {
      url: "amqp://guest:guest@127.0.0.1:5672",
      hosts: ["127.0.0.1:5672"],
    });
    assert.equal(parseAmqpUrl("amqp://r1,r2/v").url, "amqp://guest:guest@r1/v");
    assert.equal(parseAmqpUrl("amqp://herald@r1/v").url, "amqp://herald:guest@r1/v");
  });

  it("logs never show its password", () => {
    assert.equal(
      redactBusUrl("amqp://herald:s3cret@r1:5672,r2:5672/prod"),
      "amqp://herald:***@r1:5672,r2:5672/prod",
    );
  });
});
