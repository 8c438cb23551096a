import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { expectAllGone, logLines } from "../helpers/logs.ts";
import { HERALD_BIN } from "../helpers/process.ts";
import { until } from "../helpers/waiters.ts";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

/** `npm start` with 2 workers in a process group of its own (as a terminal's); `npm.kill` signals npm only. */
function npmStart() {
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
  const exited = new Promise<number | string>((resolve) =>
    npm.once("exit", (code, sig) => resolve(code ?? sig ?? -1)),
  );
  // Herald's JSON lines (npm writes its own lines too)
  const lines = () =>
    logLines(
      output
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .join("\n"),
    );
  const pids = () => lines().map((l) => l.pid);
  const listening = async () => {
    await until(
      () =>
        output.includes('"all workers listening"') &&
        (output.match(/"Herald listening"/g) ?? []).length === 2,
      "the primary and both workers listening",
      60_000,
    );
    assert.equal(new Set(pids()).size, 3, `the primary and 2 workers: ${output}`);
  };
  const killAll = () => {
    try {
      process.kill(-(npm.pid as number), "SIGKILL"); // npm and every Herald process left
    } catch {
      // none left
    }
  };
  return { npm, exited, lines, pids, output: () => output, listening, killAll };
}

describe("process handling: no Herald process outlives the command that started it", () => {
  it("SIGTERM to `npm start` (npm, then `exec` herald --workers 2) stops the primary and every worker", async () => {
    // npm passes the SIGTERM on to its child, which the script's `exec` made Herald itself.
    // (SIGINT and a killed npm: test/attack/pkgprod-npm-start-signals.test.ts.)
    const run = npmStart();
    try {
      await run.listening();
      run.npm.kill("SIGTERM");
      await run.exited;
      await expectAllGone(run.pids(), "after SIGTERM to npm start");
      assert.match(run.output(), /"SIGTERM: stopping"/);
      assert.match(run.output(), /"Herald primary stopped"/);
    } finally {
      run.killAll();
    }
  });

  it("Ctrl-C to `npm start` (SIGINT to the whole group: Herald gets it twice, itself and from npm): a graceful stop, exit 0", async () => {
    const run = npmStart();
    try {
      await run.listening();
      process.kill(-(run.npm.pid as number), "SIGINT"); // what a terminal does on Ctrl-C
      assert.equal(await run.exited, 0, run.output());
      await expectAllGone(run.pids(), "after Ctrl-C to npm start");
      // one graceful stop, not the impatient second Ctrl-C's exit at once
      assert.deepEqual(
        run
          .lines()
          .filter((l) => l.worker === null && /stopping|stopped/.test(l.msg))
          .map((l) => l.msg),
        ["SIGINT: stopping", "Herald primary stopped"],
        run.output(),
      );
    } finally {
      run.killAll();
    }
  });
});

describe("process handling: a stop asked while the workers start", () => {
  // Ctrl-C in a terminal (SIGINT) and systemd's stop (SIGTERM, KillMode=control-group) signal every
  // process of the group at once. A worker still loading has no handler yet and dies of it; the
  // primary, already stopping, must not start a replacement (nor print "all workers listening").
  // The workers are held 1.5 s before Herald's code runs (a slow disk), so the signal lands then.
  const slowWorkers = `data:text/javascript,if (process.env.HERALD_WORKER_INDEX !== undefined) await new Promise((r) => setTimeout(r, 1500));`;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    it(`${signal} to the process group while the workers start: every process stops, none is replaced`, async () => {
      const primary = spawn(
        process.execPath,
        ["--import", slowWorkers, HERALD_BIN, "--workers", "2", "--port", "0", "--host", "127.0.0.1"],
        {
          env: { ...process.env, HERALD_LOG_FORMAT: "json", HERALD_LOG_LEVEL: "info" },
          stdio: ["ignore", "pipe", "pipe"],
          detached: true, // its own process group, as a terminal's or a service's
        },
      );
      let output = "";
      primary.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      primary.stderr.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      const exited = new Promise<number | string>((resolve) =>
        primary.once("exit", (code, sig) => resolve(code ?? sig ?? -1)),
      );
      const pids = new Set<number>([primary.pid as number]);
      const children = () => {
        try {
          const text = readFileSync(`/proc/${primary.pid}/task/${primary.pid}/children`, "utf8");
          for (const pid of text.split(" ").filter((p) => p !== "")) pids.add(Number(pid));
          return text
            .trim()
            .split(" ")
            .filter((p) => p !== "").length;
        } catch {
          return 0;
        }
      };
      try {
        await until(() => children() === 2, "the primary's 2 workers forked", 30_000);
        process.kill(-(primary.pid as number), signal);
        assert.equal(await exited, 0, output);
        const lines = logLines(output);
        assert.deepEqual(
          lines.filter((l) => /a worker died|all workers listening/.test(l.msg)).map((l) => l.msg),
          [],
          `no worker replaced and no "listening" once stopping:\n${output}`,
        );
        assert.ok(
          lines.some((l) => l.msg === "Herald primary stopped"),
          output,
        );
        for (const l of lines) pids.add(l.pid);
        await expectAllGone(pids, `after ${signal} to the group`);
      } finally {
        try {
          process.kill(-(primary.pid as number), "SIGKILL");
        } catch {
          // none left
        }
      }
    });
  }
});
