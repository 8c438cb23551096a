/**
 * Calls `onGone` once the process that started this one has exited (checked every `everyMs`).
 *
 * Why: `npm start` runs Herald under `sh -c`; a SIGTERM to npm ends npm and the shell but never
 * reaches Herald, which (with its `--workers`) would be left running, orphaned. A process started
 * by PID 1 (a container's command, systemd, an init) or already orphaned is not watched: its parent
 * outlives it. The timer does not keep the process alive.
 */
export function watchParent(onGone: () => void, everyMs = 500): () => void {
  const parent = process.ppid;
  if (parent <= 1) return () => {};
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
