import type { IncomingMessage, ServerResponse } from "node:http";
import { encodeComment } from "../../core/encoder.ts";
import type { CloseReason, Subscriber } from "../../core/subscriber.ts";
import { SseConnection } from "./connection.ts";
import type { Streams, StreamWatcher } from "./open-stream.ts";

const TOKEN_EXPIRED = encodeComment("token expired");

/**
 * One open stream, of any route: the SSE sink plus what its end must undo. A class rather than a
 * closure over the request's scope: an idle stream keeps these few fields and nothing else of
 * `Streams.open` (memory per idle stream, docs/performance.md). Its end is accounted for by its
 * `Streams` (`Streams.ended`).
 */
export class Stream extends SseConnection {
  /** Set once the hub registered it (`hub.subscribe` resolved). */
  subscriber: Subscriber | undefined;
  /** Stops the token-expiry timer, when the token expires. */
  cancelExpiry: (() => void) | undefined;

  constructor(
    res: ServerResponse,
    readonly streams: Streams,
    readonly req: IncomingMessage,
    /** `StreamRequest.release`: frees the stream's connection slot. */
    readonly release: () => void,
    /** `StreamRequest.watcher`. */
    readonly watcher: StreamWatcher | undefined,
  ) {
    super(res, { maxBufferedBytes: streams.maxBufferedBytes });
  }

  /**
   * Its token expired: the client is told so in a comment, then the stream ends (what is queued is
   * sent first). A client that reconnects must bring a fresh token.
   */
  expire(): void {
    this.write(TOKEN_EXPIRED);
    this.end("expired");
  }

  protected override streamEnded(reason: CloseReason, dropped: number): void {
    this.streams.ended(this, reason, dropped);
  }
}
