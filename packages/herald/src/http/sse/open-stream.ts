import type { IncomingMessage, ServerResponse } from "node:http";
import { encodeComment, encodeRetry } from "../../core/encoder.ts";
import { badRequest } from "../../core/errors.ts";
import type { Hub } from "../../core/hub.ts";
import type { CloseReason, Subscriber } from "../../core/subscriber.ts";
import type { TopicSelector } from "../../core/topic.ts";
import type { SseConnection } from "./connection.ts";
import { atTime } from "./deadline.ts";
import { headAfterResume, headAtOnce, headWaitsForResume, SharedHead, type StreamProtocol } from "./head.ts";
import { Stream } from "./stream.ts";

/** A stream request once its protocol's route parsed and checked it: what `Streams.open` opens. */
export interface StreamRequest {
  /** What it subscribes to (validated by the route). */
  readonly selectors: readonly TopicSelector[];
  /** Selectors on which it may receive private events (its token's claim; none when anonymous). */
  readonly privateSelectors: readonly TopicSelector[];
  /** Resume after this id; undefined = live only. */
  readonly lastEventId: string | undefined;
  /** When its token expires (ms since the Unix epoch): the stream is ended then. */
  readonly expiresAt: number | undefined;
  /**
   * When it reached the protocol's maximum lifetime (ms since the Unix epoch; Mercure's
   * write_timeout), with the comment that tells the client why; a renewed token does not move it.
   */
  readonly endsAt?: { readonly at: number; readonly comment: Uint8Array } | undefined;
  /**
   * Its place in the connection limits (`Streams.admit`). From the moment it is passed to `open`,
   * `open` owns it: called exactly once, when the stream ends or when it is refused before it opened.
   */
  readonly release: () => void;
  /** A protocol's own state tied to the stream's life (Mercure's subscriptions API), if any. */
  readonly watcher?: StreamWatcher | undefined;
  /**
   * The response header naming the resume outcome of a `"resume-outcome"` protocol:
   * `Last-Event-ID` (default; Mercure 0.x) or `Mercure-Last-Event-ID` (Mercure 1.0).
   */
  readonly resumeHeader?: string | undefined;
  /** Bytes written right after the opening comment and `retry:`, before any event (Herald's `herald.stream` event). */
  readonly announce?: Uint8Array | undefined;
  /** Tag each event with the selectors that matched it (Herald's `matched=1`: src/core/matched.ts). */
  readonly matched?: boolean | undefined;
}

/**
 * A protocol's own state tied to one stream's life: one object per stream (no closure).
 * `Streams.open` calls `opening` before the subscriber is registered (not for HEAD, nor when the
 * client left), then `closed` exactly once, whatever happens (also when `opening` rejected).
 */
export interface StreamWatcher {
  /** May take time (publish subscription events); a rejection refuses the stream (answered as an error). */
  opening(): Promise<void>;
  /**
   * The hub registered the stream's subscriber (before its replay): optional. Must not throw.
   */
  registered?(subscriber: Subscriber, stream: Stream): void;
  /** The stream ended (`reason`), or was refused before it opened (undefined). Must not throw. */
  closed(reason: CloseReason | undefined): void;
}

/** Takes a place for a stream in the connection limits (`Limits`): 429/503 at a limit; the release is idempotent. */
export interface StreamSlots {
  acquireStream(ip: string): Promise<() => void>;
}

/** The logger calls streams make (pino's `Logger` fits). */
export interface StreamLog {
  debug(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface StreamsOptions {
  readonly hub: Hub;
  readonly log: StreamLog;
  /** What this route family's responses carry (Herald's API or Mercure's). */
  readonly protocol: StreamProtocol;
  /** Stream limits (HERALD_MAX_CONNECTIONS, HERALD_MAX_CONNECTIONS_PER_IP; the machine's with --workers). */
  readonly slots: StreamSlots;
  /** Throws `unavailable` (503) once Herald shuts down. */
  readonly refuseWhenStopping: () => void;
  /** Bytes buffered for one client above which it is cut off as slow (HERALD_MAX_BUFFERED). */
  readonly maxBufferedBytes: number;
  /** The `retry:` hint each stream opens with, in ms (HERALD_RETRY). */
  readonly retryMs: number;
  /** Period of the heartbeat comment, in ms (HERALD_HEARTBEAT, MERCURE_HEARTBEAT). */
  readonly heartbeatMs: number;
}

const HEARTBEAT = encodeComment("heartbeat");

/**
 * THE one way to open an SSE stream: Herald's `GET /events`, the seed's `GET /stream` and Mercure's
 * subscribe each parse their protocol's request into a `StreamRequest`, then:
 *
 *   const release = await streams.admit(ip, req);          // 503 when stopping, 429/503 at a limit
 *   // ... the subscriber's token (the route releases on failure)
 *   await streams.open(req, res, { selectors, privateSelectors, lastEventId, expiresAt, release });
 *
 * `open` registers the subscriber with the hub (replay with no gap and no duplicate when
 * resuming), ends the stream when the token expires, and, once it ends, whatever ended it: counts
 * the chunks a slow client was not sent, gives its place back, unsubscribes it. One interval writes
 * the heartbeat comment on every open stream of this `Streams` that was silent for a period
 * (`SseConnection.heartbeat`: the interval runs every half period).
 *
 * One `Streams` per protocol (their headers and heartbeat periods differ). Memory: no closure per
 * stream (`Stream` is one object), the opening bytes are one buffer, response heads are shared.
 */
/** True when `req` announces a body of one byte or more. */
function announcesBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

export class Streams {
  /** Every open stream (heartbeats, figures, leak checks). */
  readonly connections = new Set<SseConnection>();
  readonly maxBufferedBytes: number;
  private readonly opening: Buffer;
  private readonly head = new SharedHead();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: StreamsOptions) {
    this.maxBufferedBytes = options.maxBufferedBytes;
    this.opening = Buffer.concat([encodeComment("ok"), encodeRetry(options.retryMs)]);
    this.timer = setInterval(
      () => {
        for (const connection of this.connections) connection.heartbeat(HEARTBEAT);
      },
      Math.max(1, options.heartbeatMs / 2),
    );
    this.timer.unref();
  }

  /**
   * A place for a stream from `ip`: 503 while Herald stops, 429/503 at a connection limit (with
   * Retry-After). 400 for a GET or HEAD that announces a body: a stream's request is complete once
   * its headers are in, and a body it never finishes would hold the stream to the request timeout.
   */
  admit(ip: string, req: IncomingMessage): Promise<() => void> {
    if ((req.method === "GET" || req.method === "HEAD") && announcesBody(req)) {
      throw badRequest(
        "a stream request carries no body: send GET without Content-Length or Transfer-Encoding (Mercure's QUERY takes its parameters as a body)",
      );
    }
    this.options.refuseWhenStopping();
    return this.options.slots.acquireStream(ip);
  }

  /**
   * Opens the stream of `request` on `res` (see the class comment). HEAD gets the head a GET would
   * get, and no stream. Rejects (nothing opened, `release` called) when Herald began to stop, the
   * watcher refused, or the history could not be read; resolves without a stream when the client left.
   */
  async open(req: IncomingMessage, res: ServerResponse, request: StreamRequest): Promise<void> {
    const { hub, protocol } = this.options;
    let stream: Stream | undefined;
    try {
      this.options.refuseWhenStopping(); // shutdown may have begun while the request was checked
      if (req.socket.destroyed) return this.refused(request); // the client left meanwhile
      if (req.method === "HEAD") return await this.answerHead(req, res, request);
      if (request.watcher !== undefined) {
        await request.watcher.opening();
        if (req.socket.destroyed) return this.refused(request);
      }
      const { lastEventId, expiresAt } = request;
      // A live-only stream starts after what the broker holds before it counts as open (a node
      // whose tail lags must not hand it older events): asked before its head is written.
      const asking = lastEventId === undefined ? hub.liveStart() : undefined;
      const liveStart = asking === undefined ? undefined : await asking;
      if (asking !== undefined) {
        this.options.refuseWhenStopping();
        if (req.socket.destroyed) return this.refused(request);
      }
      const opened = new Stream(res, this, req, request.release, request.watcher);
      stream = opened;
      const waits = headWaitsForResume(protocol, lastEventId);
      // No await from reading the resume point until hub.subscribe registers the subscriber: no
      // event can be delivered in between.
      if (!waits) {
        const point = hub.resumePointFrom(liveStart);
        this.start(opened, res, headAtOnce(protocol, lastEventId, point), expiresAt, request);
      }
      const subscriber = await hub.subscribe({
        selectors: request.selectors,
        privateSelectors: request.privateSelectors,
        sink: opened,
        lastEventId,
        reusedIds: protocol.reusedIds,
        liveStart,
        matched: request.matched,
        onResume: waits
          ? (outcome) =>
              this.start(
                opened,
                res,
                headAfterResume(protocol, lastEventId as string, outcome, request.resumeHeader),
                expiresAt,
                request,
              )
          : undefined,
        onRegistered: request.watcher?.registered && ((s) => request.watcher?.registered?.(s, opened)),
      });
      opened.subscriber = subscriber;
      if (opened.isEnded) hub.unsubscribe(subscriber, "client-closed");
      else
        this.options.log.debug(
          { stream: protocol.name, ip: req.socket.remoteAddress, url: req.url },
          "stream opened",
        );
    } catch (error) {
      if (stream === undefined) this.refused(request); // else its end released it
      throw error;
    }
  }

  /**
   * HEAD: the head a GET would get, and no stream. A head that carries the resume outcome
   * (`headWaitsForResume`) asks the history for it (`Hub.resumeOutcome`) as the GET would. Rejects
   * like `open` (the caller's catch releases the request then).
   */
  private async answerHead(req: IncomingMessage, res: ServerResponse, request: StreamRequest): Promise<void> {
    const { hub, protocol } = this.options;
    const { lastEventId } = request;
    if (lastEventId === undefined || !headWaitsForResume(protocol, lastEventId)) {
      res.writeHead(200, headAtOnce(protocol, lastEventId, hub.resumePoint)).end();
    } else {
      const outcome = await hub.resumeOutcome({
        selectors: request.selectors,
        privateSelectors: request.privateSelectors,
        lastEventId,
        reusedIds: protocol.reusedIds,
      });
      // the client may have left meanwhile
      if (!req.socket.destroyed) {
        res.writeHead(200, headAfterResume(protocol, lastEventId, outcome, request.resumeHeader)).end();
      }
    }
    this.refused(request);
  }

  /** Stops the heartbeats (the streams themselves end with the hub's `closeAll`). */
  close(): void {
    clearInterval(this.timer);
  }

  /** `Stream.streamEnded`: the accounting of a stream's end, whatever ended it. */
  ended(stream: Stream, reason: CloseReason, dropped: number): void {
    const { hub, log, protocol } = this.options;
    hub.counters.dropped += dropped;
    stream.cancelExpiry?.();
    stream.cancelLifetime?.();
    stream.release();
    this.connections.delete(stream);
    if (stream.subscriber !== undefined) hub.unsubscribe(stream.subscriber, reason);
    stream.watcher?.closed(reason);
    if (reason === "slow") {
      log.warn({ stream: protocol.name, ip: stream.req.socket.remoteAddress }, "slow client disconnected");
    } else {
      log.debug({ stream: protocol.name, reason }, "stream closed");
    }
  }

  /**
   * The head goes out with the opening comment and `retry:` hint (at once, so proxies pass the
   * response on; or once the history answered a resume), then the stream counts as open.
   */
  private start(
    stream: Stream,
    res: ServerResponse,
    headers: Readonly<Record<string, string>>,
    expiresAt: number | undefined,
    { announce, endsAt }: Pick<StreamRequest, "announce" | "endsAt">,
  ): void {
    if (stream.isEnded) return; // the client left while the history was read
    res.writeHead(200, headers);
    res.write(this.opening);
    if (announce !== undefined) res.write(announce);
    this.head.share(res);
    this.connections.add(stream);
    // The token's end is the stream's end.
    if (expiresAt !== undefined) stream.cancelExpiry = atTime(expiresAt, () => stream.expire());
    if (endsAt !== undefined) stream.cancelLifetime = atTime(endsAt.at, () => stream.retire(endsAt.comment));
    stream.headSent(); // last: it ends the stream when its client already left
  }

  private refused(request: StreamRequest): void {
    request.release();
    request.watcher?.closed(undefined);
  }
}
