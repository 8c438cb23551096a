/**
 * The async iterator's buffer, for one consumer. `push` never blocks; `room()` resolves while it
 * holds fewer than `capacity` items (a transport that can pause waits for it, so memory stays
 * bounded); after `close(error)` the consumer still gets what is held, then the end (or `error`).
 */
export class MessageQueue<T> {
  private items: T[] = [];
  private wakeReader: (() => void) | undefined;
  private wakeWriter: (() => void) | undefined;
  private closed = false;
  private error: Error | undefined;

  constructor(private readonly capacity: number) {}

  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    this.wake("reader");
  }

  room(): Promise<void> {
    if (this.closed || this.items.length < this.capacity) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeWriter = resolve;
    });
  }

  async next(): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      if (this.items.length > 0) {
        const value = this.items.shift() as T;
        if (this.items.length < this.capacity) this.wake("writer");
        return { value, done: false };
      }
      if (this.closed) {
        if (this.error !== undefined) throw this.error;
        return { value: undefined, done: true };
      }
      await new Promise<void>((resolve) => {
        this.wakeReader = resolve;
      });
    }
  }

  close(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.error = error;
    this.wake("reader");
    this.wake("writer");
  }

  private wake(who: "reader" | "writer"): void {
    const resolve = who === "reader" ? this.wakeReader : this.wakeWriter;
    if (who === "reader") this.wakeReader = undefined;
    else this.wakeWriter = undefined;
    resolve?.();
  }
}
