import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { expectAllGone, logLines } from "../helpers/logs.ts";
import { HERALD_BIN } from "../helpers/process.ts";
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
