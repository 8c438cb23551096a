import assert from "node:assert/strict";

/** One line of Herald's log (packages/herald/src/ops/logger.ts). */
export interface LogLine {
  readonly level: string;
  readonly time: string;
  readonly pid: number;
  /** The index of the process serving HTTP; null for the `--workers` primary. */
  readonly worker: number | null;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/**
 * The lines a herald process wrote, parsed: fails the test on a line that is not one of Herald's
 * JSON lines (one format everywhere) or that lacks `pid`, `worker`, `level`, `time` or `msg`.
 */
export function logLines(output: string): LogLine[] {
  return output
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      let entry: LogLine;
      try {
        entry = JSON.parse(line) as LogLine;
      } catch {
        return assert.fail(`not a JSON log line: ${line}\n--- whole output:\n${output}`);
      }
      assert.equal(typeof entry.pid, "number", `pid on every line: ${line}`);
      assert.ok(entry.worker === null || Number.isInteger(entry.worker), `worker on every line: ${line}`);
      assert.equal(typeof entry.level, "string", `level on every line: ${line}`);
      assert.ok(!Number.isNaN(Date.parse(entry.time)), `time on every line: ${line}`);
      assert.equal(typeof entry.msg, "string", `msg on every line: ${line}`);
      return entry;
    });
}

/** True while a process with this pid exists. */
export function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Resolves once none of `pids` runs any more (checked every 50 ms, for at most `ms`). Otherwise
 * kills those still running (SIGKILL: a test leaves no process behind) and fails, naming them.
 */
export async function expectAllGone(pids: Iterable<number>, what: string, ms = 30_000): Promise<void> {
  const all = [...new Set(pids)];
  const deadline = Date.now() + ms;
  while (all.some(running) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const left = all.filter(running);
  for (const pid of left) process.kill(pid, "SIGKILL");
  assert.deepEqual(left, [], `${what}: processes still running (killed now): ${left.join(", ")}`);
}
