import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { SETTINGS } from "../../packages/herald/src/config/settings.ts";
import { generatedFiles, REGENERATE } from "../../scripts/config-docs.ts";

const root = new URL("../../", import.meta.url);

describe("files generated from the settings table", () => {
  for (const [path, expected] of Object.entries(generatedFiles())) {
    it(`${path} is what the table gives`, () => {
      const file = new URL(path, root);
      const actual = existsSync(file) ? readFileSync(file, "utf8") : undefined;
      assert.ok(actual === expected, `${path} differs from the settings table: run \`${REGENERATE}\``);
    });
  }

  it("docs/configuration.md has one row per setting, with its flag and environment variable", () => {
    const docs = generatedFiles()["docs/configuration.md"] ?? "";
    for (const setting of Object.values(SETTINGS)) {
      assert.equal(docs.split(`| \`--${setting.flag}\` | \`${setting.env}\` |`).length, 2, setting.flag);
    }
  });

  it("every flag and environment variable names one setting", () => {
    const settings = Object.values(SETTINGS);
    assert.equal(new Set(settings.map((s) => s.flag)).size, settings.length);
    assert.equal(new Set(settings.map((s) => s.env)).size, settings.length);
  });
});
