/** Web Locks (navigator.locks): Chromium, Firefox and Safari have them, in pages and workers. */
export function hasLocks(): boolean {
  return typeof (globalThis.navigator as Navigator | undefined)?.locks?.request === "function";
}

/**
 * Takes the Web Lock `name` and holds it until the returned release function is called (or the
 * tab goes away: the browser then releases it, which is how a host learns a tab closed).
 * Resolves once the lock is held.
 */
export function holdLock(name: string): Promise<() => void> {
  return new Promise((granted) => {
    navigator.locks
      .request(
        name,
        () =>
          new Promise<void>((release) => {
            granted(release);
          }),
      )
      .catch(() => {});
  });
}

/** A name no other tab uses. */
export function uniqueName(prefix: string): string {
  const random =
    typeof crypto?.randomUUID === "function"
      ? crypto.randomUUID()
      : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return `${prefix}${random}`;
}
