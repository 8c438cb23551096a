import type { ServerResponse } from "node:http";
import type { CloseReason, Sink } from "../core/subscriber.ts";

/** Headers of every SSE response. No `Connection`/`Transfer-Encoding`: they are illegal in HTTP/2. */
export const SSE_HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache",
  "X-Accel-Buffering": "no",
} as const;

export interface SseConnectionOptions {
  /** Bytes buffered for this client (Node's buffer + ours) above which it is cut off as slow. */
  readonly maxBufferedBytes: number;
  /** Called once when the stream has ended, whatever ended it. */
  readonly onEnd: (reason: CloseReason) => void;
}

/**
 * The SSE response writer: the `Sink` of one subscriber.
 *
 * Backpressure: once `res.write` returns false, further chunks wait in our queue until 'drain',
 * then go out in one corked batch. When Node's buffer plus our queue already exceed `maxBufferedBytes`
 * as a new chunk arrives, the socket is destroyed at once (reason "slow"): a slow reader costs at most that much memory and never
 * delays anyone else. The client can reconnect and resume from history.
 */
export class SseConnection implements Sink {
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private blocked = false;
  private ended = false;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly res: ServerResponse,
    private readonly options: SseConnectionOptions,
  ) {
    res.on("drain", () => this.flush());
    res.on("close", () => this.finish("client-closed"));
  }

  get isEnded(): boolean {
    return this.ended;
  }

  write(bytes: Uint8Array): boolean {
    if (this.ended) return true;
    // Checked before writing, so one event larger than the bound still goes to a client that keeps up.
    if (this.queuedBytes + this.res.writableLength > this.options.maxBufferedBytes) {
      this.end("slow");
      return true;
    }
    if (this.blocked) {
      this.queue.push(bytes);
      this.queuedBytes += bytes.length;
    } else if (!this.res.write(bytes)) {
      this.blocked = true;
    }
    return !this.blocked;
  }

  drained(): Promise<void> {
    if (!this.blocked || this.ended) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  end(reason: CloseReason): void {
    if (this.ended) return;
    if (reason === "slow" || reason === "error" || reason === "client-closed") {
      this.res.destroy();
    } else {
      for (const chunk of this.queue) this.res.write(chunk);
      this.res.end();
    }
    this.finish(reason);
  }

  private flush(): void {
    if (this.ended) return;
    const queue = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    this.blocked = false;
    if (queue.length > 0) {
      this.res.cork();
      for (const chunk of queue) if (!this.res.write(chunk)) this.blocked = true;
      this.res.uncork();
    }
    if (!this.blocked) this.wake();
  }

  private finish(reason: CloseReason): void {
    if (this.ended) return;
    this.ended = true;
    this.queue = [];
    this.queuedBytes = 0;
    this.wake();
    this.options.onEnd(reason);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
