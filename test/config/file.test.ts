import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  ConfigError,
  loadConfig,
  readConfigFile,
  SETTINGS,
} from "../../packages/herald/src/config/settings.ts";

const dir = mkdtempSync(join(tmpdir(), "herald-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function read(content: string, extension = "yaml"): ReturnType<typeof readConfigFile> {
  const path = join(dir, `${++files}.${extension}`);
  writeFileSync(path, content);
  return readConfigFile(path);
}

const EXAMPLE = fileURLToPath(new URL("../../packages/herald/herald.example.yaml", import.meta.url));

describe("the config file", () => {
  it("is parsed as JSON when it ends in .json: a JSON error names the file and the position", () => {
    assert.deepEqual(read('{"port": 8080}', "json"), read('{"port": 8080}', "yaml"));
    assert.deepEqual(read("", "json"), {});
    assert.throws(
      () => read('{\n  "port": 8080,\n}\n', "JSON"),
      (error: unknown) =>
        error instanceof ConfigError &&
        /config file \S+\.JSON is not valid JSON at line 3, column 1: /.test(error.message),
    );
    assert.throws(() => read("port: 8080\n", "json"), /is not valid JSON at line 1, column 1/);
    // .yaml, .yml and other extensions stay YAML (which holds JSON, trailing commas included)
    for (const extension of ["yaml", "yml", "conf"])
      assert.equal(read("port: 8080\n", extension).port, "8080", extension);
  });

  it("comes after flags and environment variables, and before defaults", () => {
    const file = read("retry: 1s\nheartbeat: 2s\nmax-topics: 3\n");
    const config = loadConfig({ retryMs: "4s" }, { HERALD_RETRY: "5s", HERALD_HEARTBEAT: "6s" }, file);
    assert.equal(config.retryMs, 4000, "flag");
    assert.equal(config.heartbeatMs, 6000, "environment");
    assert.equal(config.maxTopics, 3, "file");
    assert.equal(config.maxTopicLength, 256, "default");
  });

  it("--demo turns presence on for its topic, prices, unless presence is set anywhere (empty included)", () => {
    assert.deepEqual(loadConfig({ demo: "true" }, {}).presence, ["prices"]);
    assert.deepEqual(loadConfig({}, { HERALD_DEMO: "true" }).presence, ["prices"]);
    assert.deepEqual(loadConfig({ demo: "true", presence: "rooms/*" }, {}).presence, ["rooms/*"]);
    assert.deepEqual(loadConfig({ demo: "true" }, { HERALD_PRESENCE: "" }).presence, []);
    assert.deepEqual(loadConfig({}, {}, read("demo: true\npresence: ''\n")).presence, []);
    assert.deepEqual(loadConfig({}, {}).presence, [], "off by default without the demo");
  });

  it("takes YAML numbers, booleans and lists, and JSON", () => {
    const yaml = loadConfig(
      {},
      {},
      read("port: 9000\nheartbeat: 1500\ndemo: true\ncors-origins: [https://a.example, https://b.example]\n"),
    );
    assert.equal(yaml.port, 9000);
    assert.equal(yaml.heartbeatMs, 1500, "a bare number is milliseconds, as in a flag");
    assert.equal(yaml.demo, true);
    assert.deepEqual(yaml.corsOrigins, ["https://a.example", "https://b.example"]);
    const json = loadConfig({}, {}, read('{"port": 9001, "metrics-topics": "x,y", "private-topics": [7]}'));
    assert.equal(json.port, 9001);
    assert.deepEqual(json.metricsTopics, ["x", "y"]);
    assert.deepEqual(json.privateTopics, ["7"]);
  });

  it("may be empty or hold only comments: every setting keeps its default", () => {
    assert.deepEqual(read(""), {});
    assert.deepEqual(read("# nothing yet\n"), {});
  });

  it("suggests the key meant by a field name, an environment variable or a typo", () => {
    assert.throws(() => read("historySize: 5\n"), /unknown key "historySize" .*did you mean "history-size"/);
    assert.throws(() => read("HERALD_JWT_SECRET: s\n"), /did you mean "jwt-secret"/);
    assert.throws(() => read("max-topic: 5\n"), /did you mean "max-topics"/);
    assert.throws(
      () => read("colour: red\n"),
      /unknown key "colour" in config file \S+: keys are the flags' names/,
    );
  });

  it("refuses a value with no text, or of the wrong shape, saying what the key accepts", () => {
    assert.throws(
      () => read("jwt-secret:\n"),
      /invalid "jwt-secret" in config file \S+: no value; it accepts a shared secret/,
    );
    assert.throws(
      () => read("port: [1]\n"),
      /invalid "port" in config file \S+: a list; it accepts a whole number/,
    );
    assert.throws(
      () => read("cors-origins: [[a]]\n"),
      /invalid "cors-origins" .*: a list; it accepts a comma-separated list .* of origins/,
    );
    assert.throws(
      () => read("history-size: .inf\n"),
      /invalid "history-size" .*: Infinity \(not a finite number\); it accepts a whole number/,
    );
    assert.throws(
      () => read("history-size: !!binary aGVsbG8=\n"),
      /invalid "history-size" .*: binary data \(!!binary\); it accepts a whole number/,
    );
  });

  it("herald.example.yaml holds every setting, and gives the defaults", () => {
    const values = readConfigFile(EXAMPLE);
    assert.deepEqual(Object.keys(values).sort(), Object.keys(SETTINGS).sort());
    assert.deepEqual(loadConfig({}, {}, values), loadConfig({}, {}));
  });

  it("herald.example.yaml ships in the herald package", () => {
    const pkg = JSON.parse(
      readFileSync(new URL("../../packages/herald/package.json", import.meta.url), "utf8"),
    );
    assert.ok(pkg.files.includes("herald.example.yaml"), "package.json files lists herald.example.yaml");
  });
});
