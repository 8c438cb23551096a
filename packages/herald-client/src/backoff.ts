/**
 * Reconnect delays: exponential backoff with "equal jitter". The n-th delay after a drop is drawn
 * uniformly from [d/2, d] with d = min(max, base * 2^(n-1)), so clients cut off together (a hub
 * restart) do not come back together. `base` is the server's `retry:` when it sent one.
 */
export class Backoff {
  private attempts = 0;

  constructor(
    private base: number,
    private readonly max: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The server's `retry:` value becomes the base delay. */
  setBase(ms: number): void {
    this.base = ms;
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
