import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { CloseReason, Sink } from "../../core/subscriber.ts";
import { releaseParserSoon } from "../parser-release.ts";
import { frameChunk } from "./chunk.ts";

/** Headers of every SSE response. No `Connection`/`Transfer-Encoding`: they are illegal in HTTP/2. */
export const SSE_HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache",
  "X-Accel-Buffering": "no",
} as const;

/**
 * The write buffer of every socket Herald serves (the server's `highWaterMark`), pinned so that
 * pacing is the same on every Node (20: 16 KiB; 22 and later: 64 KiB). A replay writes until a
 * write returns false, then waits for 'drain'; with a buffer above `maxBufferedBytes` no write would
 * return false before the bound is passed, and every resuming client would be cut off as slow.
 */
export const SOCKET_HIGH_WATER_MARK = 16 * 1024;

export interface SseConnectionOptions {
  /** Bytes buffered for this client (Node's buffer + ours) above which it is cut off as slow. */
  readonly maxBufferedBytes: number;
}

const CONNECTION = Symbol("herald.sseConnection");
type Tagged = { [CONNECTION]?: SseConnection };

// One listener function for every connection (no closure per connection): `this` is the emitter.
function onDrain(this: Tagged): void {
  this[CONNECTION]?.flush();
}
function onClose(this: Tagged): void {
  this[CONNECTION]?.closed();
}
/** The client's FIN on the socket: an SSE client never half-closes while it reads, it left. */
function onPeerEnd(this: Tagged): void {
  this[CONNECTION]?.end("client-closed");
}

/**
 * The SSE response writer: the `Sink` of one subscriber.
 *
 * Writes go straight to the socket once the headers are out (framed as HTTP/1.1 chunks when the
 * response is chunked, which `frameChunk` shares between connections); they go through
 * `res.write` only while the response has no socket yet (a pipelined request).
 *
 * Backpressure: once a write returns false, further chunks wait in our queue until 'drain', then
 * go out in one corked batch. When Node's buffer plus our queue already exceed `maxBufferedBytes`
 * as a new chunk arrives, the socket is destroyed at once (reason "slow"): a slow reader costs at
 * most that much memory and never delays anyone else. The client can reconnect and resume from history.
 * The cut is a TCP reset, not a FIN: a FIN leaves the kernel holding the unsent bytes (megabytes)
 * for as long as the client does not read, memory no limit of Herald's would count.
 *
 * Its end: a subclass overrides `streamEnded` (no closure per connection); `Stream`
 * (open-stream.ts) is the one every route uses.
 *
 * Heartbeats (`heartbeat`, called by one timer for every stream every half period): only a stream
 * that wrote nothing for the last two calls gets one, so no stream is silent for longer than the
 * period, and a stream that receives events costs no heartbeat write (at light load a heartbeat
 * to every stream is one write per subscriber at once: as costly as a broadcast).
 *
 * Memory: no closure or timer per connection (the options object is not kept); the queue and
 * waiter list exist only while blocked; the connection's HTTP parser is handed back to node:http
 * once the head is out (`headSent`, http/parser-release.ts).
 */
export class SseConnection implements Sink {
  private queue: Uint8Array[] | undefined;
  private queuedBytes = 0;
  private blocked = false;
  private ended = false;
  private waiters: (() => void)[] | undefined;
  private lostNow = 0;
  /** `heartbeat` calls since the last write. */
  private silentTicks = 0;
  private readonly maxBufferedBytes: number;

  constructor(
    private readonly res: ServerResponse,
    options: SseConnectionOptions,
  ) {
    this.maxBufferedBytes = options.maxBufferedBytes;
    (res as Tagged)[CONNECTION] = this;
    // The last response on its connection: once the stream ends, the connection closes (node:http's
    // own flag), and requests pipelined behind it are never handled (http/in-turn.ts).
    (res as { _last?: boolean })._last = true;
    res.on("close", onClose);
    res.on("drain", onDrain);
    if (res.socket !== null) this.attach(res.socket);
  }

  /**
   * The head is out (open-stream.ts `start`; a resuming stream's head may wait for the history):
   * the connection's HTTP parser can go back to node:http's pool now (http/parser-release.ts).
   */
  headSent(): void {
    const socket = this.res.socket;
    if (socket === null || this.ended) return;
    // its client's FIN came before the head
    if (socket.readableEnded) this.end("client-closed");
    else releaseParserSoon(this.res);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  write(bytes: Uint8Array): boolean {
    if (this.ended) return true;
    this.silentTicks = 0;
    // Checked before writing, so one event larger than the bound still goes to a client that keeps up.
    if (this.queuedBytes + this.buffered() > this.maxBufferedBytes) {
      this.lostNow = 1; // this chunk is thrown away too
      this.end("slow");
      return true;
    }
    if (this.blocked) {
      if (this.queue === undefined) this.queue = [];
      this.queue.push(bytes);
      this.queuedBytes += bytes.length;
    } else if (!this.send(bytes)) {
      this.blocked = true;
    }
    return !this.blocked;
  }

  /** Called every half heartbeat period: writes `bytes` when nothing was written for two calls. */
  heartbeat(bytes: Uint8Array): void {
    if (++this.silentTicks >= 2) this.write(bytes);
  }

  drained(): Promise<void> {
    if (!this.blocked || this.ended) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.waiters === undefined) this.waiters = [];
      this.waiters.push(resolve);
    });
  }

  end(reason: CloseReason): void {
    if (this.ended) return;
    if (reason === "slow") {
      reset(this.res);
    } else if (reason === "error" || reason === "client-closed") {
      this.res.destroy();
    } else {
      for (const chunk of this.queue ?? []) this.send(chunk);
      this.res.end();
    }
    this.finish(reason);
  }

  /** 'drain': writes what waited, in one corked batch. */
  flush(): void {
    if (this.ended || !this.blocked) return;
    const queue = this.queue ?? [];
    this.queue = undefined;
    this.queuedBytes = 0;
    this.blocked = false;
    if (queue.length > 0) {
      const target = this.target();
      target.cork();
      for (const chunk of queue) if (!this.send(chunk)) this.blocked = true;
      target.uncork();
    }
    if (!this.blocked) this.wake();
  }

  /** 'close' of the response or its socket. */
  closed(): void {
    this.finish("client-closed");
  }

  /** The socket once the response owns it and its headers are out; else the response. */
  private target(): Socket | ServerResponse {
    const socket = this.res.socket;
    return socket !== null && this.res.headersSent ? socket : this.res;
  }

  private send(bytes: Uint8Array): boolean {
    const socket = this.res.socket as (Socket & Tagged) | null;
    if (socket === null || !this.res.headersSent) return this.res.write(bytes);
    if (socket[CONNECTION] !== this) this.attach(socket); // a pipelined response got its socket later
    return socket.write(this.res.chunkedEncoding ? frameChunk(bytes) : bytes);
  }

  /**
   * Listens for the socket's 'drain' (direct writes bypass the response's own 'drain') and 'end':
   * the server allows half-open connections (herald.ts), so node:http only marks the response as
   * the last on a client's FIN; the stream ends at once, whether its parser was released or not.
   */
  private attach(socket: Socket & Tagged): void {
    socket[CONNECTION] = this;
    socket.on("drain", onDrain);
    socket.on("end", onPeerEnd);
  }

  private buffered(): number {
    return this.res.socket?.writableLength ?? this.res.writableLength;
  }

  private finish(reason: CloseReason): void {
    if (this.ended) return;
    this.ended = true;
    const dropped = reason === "slow" ? (this.queue?.length ?? 0) + this.lostNow : 0;
    this.queue = undefined;
    this.queuedBytes = 0;
    const socket = this.res.socket as (Socket & Tagged) | null;
    if (socket !== null) {
      socket.off("drain", onDrain);
      socket.off("end", onPeerEnd);
      socket[CONNECTION] = undefined;
    }
    this.wake();
    this.streamEnded(reason, dropped);
  }

  /**
   * Called once when the stream has ended, whatever ended it. `dropped`: for a slow client, the
   * chunks (events, heartbeats) in our queue plus the one that found the buffer over the limit;
   * chunks already in Node's socket buffer are not counted (so: a lower bound).
   */
  protected streamEnded(_reason: CloseReason, _dropped: number): void {}

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = undefined;
    for (const resolve of waiters ?? []) resolve();
  }
}

/**
 * Closes the response's connection with a TCP reset (SO_LINGER 0): the kernel drops what it had
 * not sent. Not a TCP socket (a test double, a TLS wrap): destroyed as usual.
 */
function reset(res: ServerResponse): void {
  const socket = res.socket;
  if (socket !== null && typeof socket.resetAndDestroy === "function") {
    try {
      socket.resetAndDestroy();
      return;
    } catch {
      // not a TCP handle: fall through
    }
  }
  res.destroy();
}
