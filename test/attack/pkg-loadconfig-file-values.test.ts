import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ConfigError, configWith } from "herald";

/**
 * Promise (docs/embedding.md): `configWith(overrides, { file, env })` reads a config file "as
 * `herald --config` reads it" (keys are the flags' names, herald.example.yaml: `history-size:
 * 10000`; YAML gives numbers for numbers), environment variables over it and the overrides over
 * both; "each checked as the command checks it: a ConfigError names the setting".
 *
 * Found in an attack round (2026-12-03), with `herald` imported by its package name from a JS
 * program: the library's entry for a file's values was `loadConfig(flags, env, file)`, which keys
 * by HeraldConfig field names and takes values already checked: `"history-size": "5"` and an
 * unknown `prot` were silently dropped, and a number (`port: 8080`, what YAML.parse gives) threw
 * "TypeError: raw.trim is not a function". The fix: the package exports `configWith` only, which
 * reads the file itself; this test was restated for it.
 */
describe("attack: herald as a library: a config file through configWith", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "herald-configwith-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const file = async (name: string, text: string): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  };

  it("takes a key named as its flag (history-size: 5) and a YAML number (port: 8080)", async () => {
    const config = configWith({}, { file: await file("a.yaml", "history-size: 5\nport: 8080\n") });
    assert.equal(config.historySize, 5);
    assert.equal(config.port, 8080);
  });

  it("refuses an unknown key with a ConfigError that suggests the right one", async () => {
    const path = await file("b.yaml", "prot: 8080\n");
    assert.throws(
      () => configWith({}, { file: path }),
      (error: unknown) => error instanceof ConfigError && /"prot".*did you mean "port"/.test(error.message),
    );
  });

  it("puts the environment over the file and the overrides over both", async () => {
    const path = await file("c.yaml", "history-size: 5\nheartbeat: 20s\nport: 8080\n");
    const config = configWith(
      { port: 9090 },
      { file: path, env: { HERALD_HISTORY_SIZE: "7", HERALD_PORT: "1" } },
    );
    assert.equal(config.port, 9090);
    assert.equal(config.historySize, 7);
    assert.equal(config.heartbeatMs, 20_000);
  });
});
