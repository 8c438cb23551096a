import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { spawnHerald, stopHerald } from "../helpers/process.ts";
import { runUntilExit } from "../helpers/start-failure.ts";

/** The log's messages as text: a config error is one JSON line (ops/logger.ts), its `msg` the reason. */
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

// `herald --config FILE`, run as the real command (packages/herald/dist: `npm run build` first).
const dir = mkdtempSync(join(tmpdir(), "herald-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Opens a stream and answers its status, its CORS header and the `retry:` hint it opens with. */
async function openStream(base: string, topics: string[], origin = "https://elsewhere.example") {
  const query = topics.map((t) => `topic=${t}`).join("&");
  const controller = new AbortController();
  const res = await fetch(`${base}/events?${query}`, { headers: { origin }, signal: controller.signal });
  let text = "";
  if (res.ok && res.body !== null) {
    const reader = res.body.getReader();
    while (!/retry: \d+\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
  }
  controller.abort();
  return {
    status: res.status,
    cors: res.headers.get("access-control-allow-origin"),
    retry: /retry: (\d+)/.exec(text)?.[1],
  };
}

describe("herald --config", () => {
  it("takes settings from a YAML file; a flag wins over the environment, which wins over the file", async () => {
    const path = file(
      "herald.yaml",
      [
        "retry: 1111 # the environment and a flag set it too: the flag wins",
        "max-topics: 2 # the environment sets it too: the environment wins",
        "cors-origins: [https://file.example] # only here: the file wins over the default",
        "",
      ].join("\n"),
    );
    const herald = await spawnHerald(["--config", path, "--retry", "3333"], {
      HERALD_RETRY: "2222",
      HERALD_MAX_TOPICS: "3",
    });
    try {
      const stream = await openStream(herald.url, ["a", "b", "c"], "https://file.example");
      assert.equal(stream.status, 200, "3 topics: HERALD_MAX_TOPICS=3 wins over the file's 2");
      assert.equal(stream.retry, "3333", "--retry wins over HERALD_RETRY and the file");
      assert.equal(stream.cors, "https://file.example", "cors-origins from the file");
      assert.equal((await openStream(herald.url, ["a", "b", "c", "d"])).status, 400, "4 topics: above 3");
    } finally {
      await stopHerald(herald);
    }
  });

  it("takes a JSON file too, named by HERALD_CONFIG", async () => {
    const path = file("herald.json", JSON.stringify({ retry: "1.5s", "max-topics": 1 }));
    const herald = await spawnHerald([], { HERALD_CONFIG: path });
    try {
      const stream = await openStream(herald.url, ["a"]);
      assert.equal(stream.retry, "1500");
      assert.equal(stream.cors, null, "no CORS origin by default");
      assert.equal((await openStream(herald.url, ["a", "b"])).status, 400, "max-topics: 1");
    } finally {
      await stopHerald(herald);
    }
  });

  const bad: { name: string; content?: string; env?: Record<string, string>; says: RegExp }[] = [
    {
      name: "missing.yaml",
      says: /cannot read config file \S*missing\.yaml: ENOENT.*check the path given to --config/,
    },
    {
      name: "broken.yaml",
      content: "port: 8080\nretry: [1s\n",
      says: /config file \S*broken\.yaml is not valid YAML or JSON: .*line \d+, column \d+/,
    },
    {
      name: "list.yaml",
      content: "- port: 8080\n",
      says: /config file \S*list\.yaml must hold a mapping of settings keyed by the flags' names.*it holds a list/,
    },
    {
      name: "unknown.yaml",
      content: "prot: 8080\n",
      says: /unknown key "prot" in config file \S*unknown\.yaml: did you mean "port"\? \(keys are the flags' names/,
    },
    {
      // checked even though the environment overrides it: a bad file never starts
      name: "value.yaml",
      content: "history-size: lots\n",
      env: { HERALD_HISTORY_SIZE: "5" },
      says: /invalid "history-size" in config file \S*value\.yaml: "lots"; it accepts a whole number of 1 or more/,
    },
    {
      name: "mapping.yaml",
      content: "cors-origins:\n  origin: https://a.example\n",
      says: /invalid "cors-origins" in config file \S*mapping\.yaml: a mapping; it accepts a comma-separated list \(in a config file, a YAML list too\) of origins/,
    },
    {
      // a bare number is milliseconds: 15 would send a heartbeat comment every 15 ms to every stream
      name: "heartbeat.yaml",
      content: "heartbeat: 15\n",
      says: /invalid "heartbeat" in config file \S*heartbeat\.yaml: 15 is 15 ms, under the least of 100ms; give a unit, e\.g\. "15s"/,
    },
    {
      name: "retry.yaml",
      content: "port: 0\n",
      env: { HERALD_RETRY: "3" },
      says: /invalid HERALD_RETRY \/ --retry: 3 is 3 ms, under the least of 100ms; give a unit, e\.g\. "3s"/,
    },
    {
      name: "origins.yaml",
      content: "cors-origins: 5\n",
      says: /invalid "cors-origins" in config file \S*origins\.yaml: "5" is not an origin: write it as scheme:\/\/host\[:port\]/,
    },
  ];
  // Each process stops at once: run them side by side.
  describe("a bad file exits 1, naming the file, the key and what the key accepts", {
    concurrency: true,
  }, () => {
    for (const { name, content, env, says } of bad) {
      it(name, async () => {
        const path = content === undefined ? join(dir, name) : file(name, content);
        const { code, output } = await runUntilExit(["--port", "0", "--config", path], env ?? {});
        assert.equal(code, 1, output);
        assert.match(messagesOf(output), says);
        assert.doesNotMatch(output, /listening/, "nothing started");
      });
    }
  });
});
