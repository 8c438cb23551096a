/**
 * Waiting in tests for something to become true, never for a fixed time. Two forms:
 * - `until(test, what)` polls `test()` every 10 ms (for state nothing announces), `eventually` the
 *   same for an async test (state read over HTTP);
 * - `Waiters` for a client that knows when its state changes: `wait(test)` resolves once `test()`
 *   holds, checked at once and at every `check()` the owner calls after a change.
 * Both reject after `ms` with a message that says what was awaited.
 */

/** Resolves once `test()` holds, checking every 10 ms; rejects after `ms` with `what` in the message. */
export async function until(test: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Resolves once the async `test()` holds, asking again every 50 ms; rejects after `ms` with `what`.
 * A request that fails counts as "not yet" (e.g. a pooled keep-alive connection to a worker just
 * killed).
 */
export async function eventually(test: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await test().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Pending conditions of one client; its owner calls `check()` whenever its state changed. */
export class Waiters {
  private readonly pending: { test: () => boolean; resolve: () => void }[] = [];

  /** Resolves once `test()` holds; rejects after `ms` with the message `timeoutMessage()` gives then. */
  wait(test: () => boolean, ms: number, timeoutMessage: () => string): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(timeoutMessage())), ms);
      this.pending.push({
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  check(): void {
    for (const waiter of [...this.pending]) {
      if (waiter.test()) {
        this.pending.splice(this.pending.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }
}
