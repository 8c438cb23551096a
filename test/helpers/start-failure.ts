import { spawn } from "node:child_process";
import { HERALD_BIN } from "./process.ts";

/**
 * Runs `herald` with `args` and `env` (quiet logs, anonymous publishing on unless `env` says
 * otherwise) and waits, at most `ms`, for it to exit: a start that must fail. `nodeArgs` go to node
 * (and so to every `--workers` worker, which runs with the primary's execArgv). Resolves with the
 * exit code (or signal) and everything it printed; `code` is "running" when it was still running
 * at the deadline (it is then killed, with its workers: they die with their primary's IPC channel).
 */
export function runUntilExit(
  args: string[],
  env: Record<string, string>,
  ms = 60_000,
  nodeArgs: string[] = [],
): Promise<{ code: number | string; output: string }> {
  const child = spawn(process.execPath, [...nodeArgs, HERALD_BIN, "--host", "127.0.0.1", ...args], {
    env: { HERALD_ALLOW_ANONYMOUS_PUBLISH: "true", HERALD_WORKERS: "1", ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, ms);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? "running" : (code ?? signal ?? -1), output });
    });
  });
}
