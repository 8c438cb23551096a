import { EventSource } from "eventsource";
import { Waiters } from "./waiters.ts";

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
  private readonly waiters = new Waiters();

  constructor(url: string, types: string[] = ["message"], headers: Record<string, string> = {}) {
    this.source = new EventSource(url, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...headers } }),
    });
    this.source.addEventListener("open", () => {
      this.opens++;
      this.waiters.check();
    });
    for (const type of types) {
      this.source.addEventListener(type, (event) => {
        this.events.push({ type, data: event.data, id: event.lastEventId });
        this.waiters.check();
      });
    }
  }

  datas(type = "message"): string[] {
    return this.events.filter((e) => e.type === type).map((e) => e.data);
  }

  until(test: () => boolean, ms = 10_000): Promise<void> {
    return this.waiters.wait(
      test,
      ms,
      () => `timed out; got ${this.events.length} events: ${JSON.stringify(this.events.slice(-3))}`,
    );
  }

  opened(): Promise<void> {
    return this.until(() => this.opens > 0);
  }

  close(): void {
    this.source.close();
  }
}
