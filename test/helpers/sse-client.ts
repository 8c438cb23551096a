import { EventSource } from "eventsource";

export interface Received {
  type: string;
  data: string;
  id: string;
}

/**
 * A real third-party client (the `eventsource` npm package) that records every event of the given
 * types, in arrival order. `headers` are sent on every (re)connection.
 */
export class RecordingClient {
  readonly events: Received[] = [];
  readonly source: EventSource;
  opens = 0;
  private readonly waiters: { test: () => boolean; resolve: () => void }[] = [];

  constructor(url: string, types: string[] = ["message"], headers: Record<string, string> = {}) {
    this.source = new EventSource(url, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...headers } }),
    });
    this.source.addEventListener("open", () => {
      this.opens++;
      this.check();
    });
    for (const type of types) {
      this.source.addEventListener(type, (event) => {
        this.events.push({ type, data: event.data, id: event.lastEventId });
        this.check();
      });
    }
  }

  datas(type = "message"): string[] {
    return this.events.filter((e) => e.type === type).map((e) => e.data);
  }

  until(test: () => boolean, ms = 10_000): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `timed out; got ${this.events.length} events: ${JSON.stringify(this.events.slice(-3))}`,
            ),
          ),
        ms,
      );
      this.waiters.push({
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  opened(): Promise<void> {
    return this.until(() => this.opens > 0);
  }

  close(): void {
    this.source.close();
  }

  private check(): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.test()) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }
}
