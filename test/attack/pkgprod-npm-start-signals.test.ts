// Attack (issue 13, "Process handling"): "SIGTERM to `npm start` must stop every Herald process";
// the brief asks for SIGINT too. A process manager stops `npm start` by signalling npm's PID
// (pm2's default stop signal is SIGINT; `kill -INT <pid>`). npm passes SIGINT to its `sh -c`, which
// does not pass it on and does not die of it: npm, the shell, the primary and the workers all keep
// running, and Herald keeps serving. The SIGTERM case only works because the shell dies and
// Herald sees its parent go (ops/parent.ts). Likewise, when npm itself is killed (SIGKILL from a
// supervisor's stop timeout), the shell survives as Herald's parent, so Herald never stops.
// A fix: `"start": "exec node ..."` (npm's signal then reaches Herald itself, and Herald's parent is
// npm), or the primary also watching its grand-parent.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { expectAllGone, logLines } from "../helpers/logs.ts";
import { until } from "../helpers/waiters.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

/** `npm start` with 2 workers, in a process group of its own; resolves once all three processes listen. */
async function npmStart() {
  const npm = spawn("npm", ["start"], {
    cwd: REPO,
    env: {
      ...process.env,
      HERALD_PORT: "0",
      HERALD_HOST: "127.0.0.1",
      HERALD_WORKERS: "2",
      HERALD_LOG_FORMAT: "json",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  npm.stdout.on("data", collect);
  npm.stderr.on("data", collect);
  const heraldLines = () =>
    logLines(
      output
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .join("\n"),
    );
  await until(
    () =>
      output.includes('"all workers listening"') && (output.match(/"Herald listening"/g) ?? []).length === 2,
    "the primary and both workers listening",
    60_000,
  );
  const pids = [...new Set(heraldLines().map((l) => l.pid))];
  assert.equal(pids.length, 3, `the primary and 2 workers: ${output}`);
  const killGroup = () => {
    try {
      process.kill(-(npm.pid as number), "SIGKILL");
    } catch {
      // none left
    }
  };
  return { npm, pids, output: () => output, killGroup };
}

describe("attack: stopping `npm start` by its PID stops every Herald process", () => {
  it("SIGINT to npm (as pm2 or `kill -INT` sends it): the primary and both workers stop", async () => {
    const run = await npmStart();
    try {
      run.npm.kill("SIGINT");
      await expectAllGone(run.pids, `after SIGINT to npm start\n${run.output()}`, 15_000);
    } finally {
      run.killGroup();
    }
  });

  it("npm killed (SIGKILL, a supervisor's stop timeout): the primary and both workers stop", async () => {
    const run = await npmStart();
    try {
      run.npm.kill("SIGKILL");
      await expectAllGone(run.pids, `after SIGKILL to npm\n${run.output()}`, 15_000);
    } finally {
      run.killGroup();
    }
  });
});
