import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { expectAllGone, logLines } from "../helpers/logs.ts";
import { until } from "../helpers/waiters.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

describe("process handling: no Herald process outlives the command that started it", () => {
  it("SIGTERM to `npm start` (npm, then sh -c, then herald --workers 2) stops the primary and every worker", async () => {
    // npm passes the SIGTERM to its `sh -c`, which dies without passing it on: Herald sees only its
    // parent go. (Running the bin directly gets the signal itself: docs/production.md.)
    const npm = spawn("npm", ["start"], {
      cwd: REPO,
      env: {
        ...process.env,
        HERALD_PORT: "0",
        HERALD_HOST: "127.0.0.1",
        HERALD_WORKERS: "2",
        HERALD_LOG_FORMAT: "json",
        HERALD_ALLOW_ANONYMOUS_PUBLISH: "false",
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group: the test can kill all it started, whatever happens
    });
    let output = "";
    npm.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    npm.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const pids = () =>
      logLines(
        output
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .join("\n"),
      ).map((l) => l.pid);
    try {
      await until(
        () =>
          output.includes('"all workers listening"') &&
          (output.match(/"Herald listening"/g) ?? []).length === 2,
        "the primary and both workers listening",
        60_000,
      );
      assert.equal(new Set(pids()).size, 3, `the primary and 2 workers: ${output}`);
      npm.kill("SIGTERM");
      await new Promise((resolve) => npm.once("exit", resolve));
      await expectAllGone(pids(), "after SIGTERM to npm start");
      assert.match(output, /"the parent process is gone: stopping"/);
    } finally {
      try {
        process.kill(-(npm.pid as number), "SIGKILL"); // npm, its sh and every Herald process left
      } catch {
        // none left
      }
    }
  });
});
