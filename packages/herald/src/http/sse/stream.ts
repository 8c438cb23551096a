import type { IncomingMessage, ServerResponse } from "node:http";
import { encodeComment } from "../../core/encoder.ts";
import type { CloseReason, Subscriber } from "../../core/subscriber.ts";
import { SseConnection } from "./connection.ts";
import { atTime } from "./deadline.ts";
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
  /** Stops the lifetime timer (`StreamRequest.endsAt`), when there is one. */
  cancelLifetime: (() => void) | undefined;

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

  /**
   * It reached the protocol's maximum lifetime (`StreamRequest.endsAt`): `comment` tells the client
   * why, then the stream ends as an expiry does; the client reconnects and resumes.
   */
  retire(comment: Uint8Array): void {
    this.write(comment);
    this.end("expired");
  }

  /** Moves the stream's end to `when` (ms since the Unix epoch; undefined: never): a renewed token. */
  expireAt(when: number | undefined): void {
    this.cancelExpiry?.();
    this.cancelExpiry = undefined;
    if (when !== undefined && !this.isEnded) this.cancelExpiry = atTime(when, () => this.expire());
  }

  protected override streamEnded(reason: CloseReason, dropped: number): void {
    this.streams.ended(this, reason, dropped);
  }
}
