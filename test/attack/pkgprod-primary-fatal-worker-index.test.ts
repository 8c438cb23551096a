// Attack (issue 13, "Logs": "Each line carries the pid and the worker index"): with --workers 2 (or
// the default, auto), the primary's lines carry `"worker":null` ("all workers listening", "a worker
// died", "Herald primary stopped"); but when the primary refuses to start on a bad setting (a bad
// config file, a bad flag), before any worker is forked, its one fatal line says `"worker":0`. A
// collector that tells the primary from worker 0 by that field files the reason Herald did not
// start under a worker that never existed.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { logLines } from "../helpers/logs.ts";
import { HERALD_BIN } from "../helpers/process.ts";

const dir = mkdtempSync(join(tmpdir(), "herald-attack-fatal-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const badFile = join(dir, "herald.yaml");
writeFileSync(badFile, "port: 0\nbogus: 1\n");

/** Runs the bin with `args` until it exits; its pid, exit code and output. */
function runBin(args: string[]): Promise<{ pid: number; code: number | string; output: string }> {
  const child = spawn(process.execPath, [HERALD_BIN, "--port", "0", "--host", "127.0.0.1", ...args], {
    env: { ...process.env, HERALD_LOG_FORMAT: "json" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000); // never left behind
  return new Promise((resolve) =>
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ pid: child.pid as number, code: code ?? signal ?? -1, output });
    }),
  );
}

describe("attack: the primary's fatal start refusal is labelled as the primary's", () => {
  for (const [name, args] of [
    ["a bad config file, --workers 2", ["--workers", "2", "--config", badFile]],
    ["a bad flag, --workers 2", ["--workers", "2", "--heartbeat", "1"]],
    ["a bad config file, the default workers (auto)", ["--workers", "auto", "--config", badFile]],
  ] as const) {
    it(`${name}: exit 1, and the fatal line of the primary's pid has "worker": null`, async () => {
      const run = await runBin([...args]);
      assert.equal(run.code, 1, run.output);
      const fatal = logLines(run.output).filter((l) => l.level === "fatal");
      assert.equal(fatal.length, 1, run.output);
      assert.equal(fatal[0]?.pid, run.pid, "the primary (the bin's own process) refused to start");
      assert.equal(fatal[0]?.worker, null, `the primary's line: ${run.output}`);
    });
  }
});

describe("a single process's fatal start refusal is labelled as its other lines", () => {
  it('a bad config file, --workers 1: exit 1, and the fatal line has "worker": 0', async () => {
    const run = await runBin(["--workers", "1", "--config", badFile]);
    assert.equal(run.code, 1, run.output);
    const fatal = logLines(run.output).filter((l) => l.level === "fatal");
    assert.equal(fatal.length, 1, run.output);
    assert.equal(fatal[0]?.worker, 0, `a single process's line: ${run.output}`);
  });
});
