/**
 * The shortest base delay, in ms: Herald's own smallest `retry:` (`--retry`, at least 100ms). A
 * smaller base (a publisher's `retry: 0` on an event, `initialDelayMs: 0`) counts as this, so the
 * delays still grow and spread: a reconnect never turns into a loop hammering the hub.
 */
export const MIN_BASE_DELAY_MS = 100;

/**
 * Reconnect delays: exponential backoff with "equal jitter". The n-th delay after a drop is drawn
 * uniformly from [d/2, d] with d = min(max, base * 2^(n-1)), so clients cut off together (a hub
 * restart) do not come back together. `base` is the server's `retry:` when it sent one, else the
 * initial delay; both `base` and `max` are at least `MIN_BASE_DELAY_MS` (so every delay is at least
 * half of it); a value that is not a finite number keeps the previous one.
 */
export class Backoff {
  private attempts = 0;
  private base: number;
  private readonly max: number;

  constructor(
    base: number,
    max: number,
    private readonly random: () => number = Math.random,
  ) {
    this.base = atLeastFloor(base, 1000);
    this.max = atLeastFloor(max, 30_000);
  }

  /** The server's `retry:` value becomes the base delay (at least `MIN_BASE_DELAY_MS`). */
  setBase(ms: number): void {
    this.base = atLeastFloor(ms, this.base);
  }

  /** Attempts since the last `reset` (the number of the next retry minus one). */
  get attempt(): number {
    return this.attempts;
  }

  next(): number {
    const d = Math.min(this.max, this.base * 2 ** Math.min(this.attempts, 30));
    this.attempts++;
    return Math.round(d / 2 + (this.random() * d) / 2);
  }

  /** Called once a connection opened: the next drop starts again from `base`. */
  reset(): void {
    this.attempts = 0;
  }
}

function atLeastFloor(ms: number, otherwise: number): number {
  return Number.isFinite(ms) ? Math.max(MIN_BASE_DELAY_MS, ms) : otherwise;
}
