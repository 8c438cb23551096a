// Attack: issue 13 and docs/configuration.md: "A bad file names the file, the key, and what the key
// accepts" and a bad value stops the start (exit code 1). Some keys of the settings table are not
// checked where the file is read: the Mercure algorithms are taken as anything (`none`, a typo) while
// no Mercure key is set, and checked only later with a message that names the environment variable,
// not the file or its key; `webhook-events` is refused without naming the file.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runUntilExit } from "../helpers/start-failure.ts";

const dir = mkdtempSync(join(tmpdir(), "herald-attack-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The `msg` of each JSON log line, one per line. */
function messagesOf(output: string): string {
  return output
    .split("\n")
    .map((line) => {
      try {
        const entry = JSON.parse(line) as { msg?: unknown };
        return typeof entry.msg === "string" ? entry.msg : line;
      } catch {
        return line;
      }
    })
    .join("\n");
}

const cases: { name: string; content: string; key: string }[] = [
  { name: "alg-typo.yaml", content: "mercure-jwt-alg: HS265\n", key: "mercure-jwt-alg" },
  { name: "alg-none.yaml", content: "mercure-publisher-jwt-alg: none\n", key: "mercure-publisher-jwt-alg" },
  { name: "sub-alg.yaml", content: "mercure-subscriber-jwt-alg: RS999\n", key: "mercure-subscriber-jwt-alg" },
  {
    name: "alg-none-with-key.yaml",
    content: "mercure-jwt-alg: none\nmercure-jwt-key: 0123456789abcdef0123456789abcdef\nmercure-issuer: me\n",
    key: "mercure-jwt-alg",
  },
  { name: "webhook-events.yaml", content: "webhook-events: subscriber.exploded\n", key: "webhook-events" },
];

describe("herald --config with a bad value: exit 1 naming the file and the key", () => {
  for (const { name, content, key } of cases) {
    it(`${content.trim().split("\n")[0]}`, async () => {
      const path = join(dir, name);
      writeFileSync(path, content);
      // a deadline, not a timing assertion: a start that is not refused keeps running
      const { code, output } = await runUntilExit(["--port", "0", "--config", path], {}, 15_000);
      assert.equal(
        code,
        1,
        `herald started with ${content.trim()} (exit: ${code}): ${messagesOf(output).slice(0, 300)}`,
      );
      const said = messagesOf(output);
      assert.ok(said.includes(name), `the refusal names the file ${name}: ${said}`);
      assert.ok(said.includes(`"${key}"`), `the refusal names the key "${key}": ${said}`);
    });
  }
});
