/** The signals that stop Herald gracefully (docs/production.md, "Signals and exit codes"). */
export const STOP_SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const;

/**
 * Calls `onStop(signal)` on the first stop signal (SIGTERM, SIGINT, SIGHUP). A stop signal that comes
 * later than `sameWithinMs` after it ends the process at once, by that signal's default action (an
 * impatient second Ctrl-C). One that comes sooner is the same stop and is ignored: under `npm start`
 * (npm runs `exec node ...`) a Ctrl-C reaches Herald twice, from the terminal and passed on by npm,
 * and so does a service manager's SIGTERM to the whole group.
 */
export function onStopSignals(onStop: (signal: string) => void, sameWithinMs = 1000): void {
  let firstAt: number | undefined;
  const handle = (signal: NodeJS.Signals) => {
    const now = performance.now();
    if (firstAt === undefined) {
      firstAt = now;
      onStop(signal);
    } else if (now - firstAt > sameWithinMs) {
      for (const s of STOP_SIGNALS) process.removeAllListeners(s);
      process.kill(process.pid, signal);
    }
  };
  for (const signal of STOP_SIGNALS) process.on(signal, handle);
}
