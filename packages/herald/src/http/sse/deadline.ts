/** Longest delay setTimeout takes (about 24.8 days); longer waits are chained. */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * Calls `fn` at time `when` (ms since the Unix epoch), or soon if it has passed. Returns a cancel
 * function; one timer at a time per deadline. Not unref'd: the owner must cancel it (a stream does on
 * close), and a forgotten one shows up in `process.getActiveResourcesInfo()` instead of hiding.
 */
export function atTime(when: number, fn: () => void, now: () => number = Date.now): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const delay = when - now();
    if (delay <= 0) {
      timer = undefined;
      fn();
      return;
    }
    timer = setTimeout(arm, Math.min(delay, MAX_DELAY));
  };
  arm();
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
}
