import type { Server } from "node:http";
import type { Socket } from "node:net";
import { endedEarly } from "./body.ts";
import { type LeanAnswerSink, LeanRequest, LeanResponse } from "./lean-exchange.ts";
import { type HeadOutcome, type LeanHead, MAX_LEAN_BODY, MAX_LEAN_HEAD, readLeanHead } from "./lean-head.ts";

/**
 * The lean path: plain HTTP/1.1 requests to a few routes (the publish routes) are read and answered
 * without node:http, whose per-request machinery (IncomingMessage and ServerResponse streams, the
 * parser callbacks, header processing; about half of a publish's CPU time) they do not need.
 *
 * How: the server's `connection` listeners (node:http's) are set aside. Each new connection's bytes
 * are read here; while its requests qualify (http/lean-head.ts: the plainest HTTP/1.1 to one of
 * `routes`, Content-Length body of at most 64 KiB), each goes, once its head is in, to the server's
 * `request` listeners as a LeanRequest/LeanResponse pair (http/lean-exchange.ts; the body, whole,
 * through `readBody`), one request at a time per connection (pipelined requests wait, so answers
 * keep their order). At the first request
 * that does not qualify (another route, chunked, Expect, a doubtful header, HTTP/1.0, ...), the
 * connection is handed to node:http with every byte not yet consumed, as if node:http had accepted
 * it (its `connection` listener, then the bytes): from then on node:http serves that connection,
 * and decides what that request means. Streams (`GET /events`) are handed over at their first bytes.
 *
 * Same as node:http: the server's `headersTimeout` (head not complete in time) and
 * `requestTimeout` (body) answer 408 and close; an idle connection closes after `keepAliveTimeout`;
 * `Connection: close` is honoured; answers carry `Date`, `Connection` and `Keep-Alive`.
 * `server.closeIdleConnections()` and `closeAllConnections()` also close lean connections (the
 * instance's methods are wrapped), and once `closeIdleConnections` ran, every lean answer closes
 * its connection.
 *
 * Contract for the routes: the request listener gets objects with the members listed in
 * http/lean-exchange.ts only (not node:http's classes): the routes served here must use no other.
 */
export function serveLean(server: Server, routes: readonly { method: string; path: string }[]): void {
  const lines = new Map(
    routes.map((r) => [`${r.method} ${r.path} HTTP/1.1`, { method: r.method, target: r.path }]),
  );
  const nodeListeners = server.listeners("connection") as ((socket: Socket) => void)[];
  server.removeAllListeners("connection");
  const front: Front = {
    server,
    lines,
    connections: new Set(),
    closing: false,
    handOff: (socket, rest) => {
      for (const listener of nodeListeners) listener.call(server, socket);
      socket.resume();
      if (rest !== undefined && rest.length > 0) socket.emit("data", rest);
    },
  };
  server.on("connection", (socket: Socket) => {
    front.connections.add(new LeanConnection(socket, front));
  });
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const connection of front.connections) connection.check(now);
  }, 1000);
  sweeper.unref();
  server.once("close", () => clearInterval(sweeper));
  const closeIdle = server.closeIdleConnections.bind(server);
  server.closeIdleConnections = () => {
    closeIdle();
    front.closing = true;
    for (const connection of [...front.connections]) connection.closeIfIdle();
  };
  const closeAll = server.closeAllConnections.bind(server);
  server.closeAllConnections = () => {
    closeAll();
    for (const connection of [...front.connections]) connection.destroy();
  };
}

interface Front {
  readonly server: Server;
  readonly lines: ReadonlyMap<string, { method: string; target: string }>;
  readonly connections: Set<LeanConnection>;
  /** The server is closing: every answer closes its connection. */
  closing: boolean;
  handOff(socket: Socket, rest: Buffer | undefined): void;
}

/** Buffered bytes above which a connection waiting for its answer stops reading (pipelining bound). */
const MAX_BUFFERED = MAX_LEAN_HEAD + MAX_LEAN_BODY;
/** Answers not yet taken by the client above which the next request waits for `drain`. */
const MAX_UNSENT = 64 * 1024;

/** One connection while it is on the lean path. */
class LeanConnection implements LeanAnswerSink {
  /** Bytes received and not consumed yet (the rest of the request being received, and what follows). */
  private buf: Buffer | undefined;
  /** A request is with the route; the next one waits. */
  private busy = false;
  /**
   * When the request being received began (0: none): its first byte, or for the connection's first
   * request the connection's start (node:http's headers timeout also covers a client that sends
   * nothing at all).
   */
  private since = Date.now();
  /** The head of the request being received, once complete (its body is still coming). */
  private head: LeanHead | undefined;
  /** The route has the request whose body is still coming: settle it when the body is in (or not). */
  private body: { resolve(body: Buffer): void; reject(error: Error): void } | undefined;
  /** The end of the last answer, or the connection's start. */
  private idleSince = Date.now();
  /** The client half-closed: close once the request with the route is answered. */
  private ended = false;
  /** The request with the route asked for `Connection: close`. */
  private closeAfter = false;
  private gone = false;

  constructor(
    private readonly socket: Socket,
    private readonly front: Front,
  ) {
    socket.on("data", this.onData);
    socket.on("end", this.onEnd);
    socket.on("error", this.onError);
    socket.on("close", this.onClose);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.since === 0) this.since = Date.now();
    if (this.buf === undefined) this.buf = chunk;
    else this.buf = Buffer.concat([this.buf, chunk]);
    if (this.body !== undefined) this.bodyIn();
    else if (!this.busy) this.next();
    else if (this.buf.length > MAX_BUFFERED) this.socket.pause();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.bodyLost();
    if (!this.busy) this.close();
  };

  private readonly onError = (): void => {
    this.destroy();
  };

  private readonly onClose = (): void => {
    this.bodyLost();
    this.leave();
  };

  /**
   * Serves the buffered requests, one at a time, until one is incomplete or not lean. As node:http
   * does, a request goes to the route once its head is in; its body may still be coming.
   */
  private next(): void {
    while (!this.busy && !this.gone && this.buf !== undefined) {
      const buf = this.buf;
      const head = this.head ?? readLeanHead(buf, this.front.lines);
      if (head === "more") return;
      if (head === "node") {
        this.handOff();
        return;
      }
      this.head = undefined;
      const total = head.headLength + head.bodyLength;
      if (buf.length < total) {
        this.head = head;
        const body = new Promise<Buffer>((resolve, reject) => {
          this.body = { resolve, reject };
        });
        body.catch(() => {}); // a route that answered without reading it (401, 429) never awaits it
        this.serve(head, body);
        return;
      }
      // Bytes after this request that are no lean request (another route, garbage): node:http gets
      // them with this request, as it would have had them all at once (it then decides, for
      // instance, to close after this answer rather than answer the garbage).
      let after: HeadOutcome | undefined;
      if (buf.length > total) {
        after = readLeanHead(buf.subarray(total), this.front.lines);
        if (after === "node") {
          this.handOff();
          return;
        }
      }
      this.consume(total);
      this.head = typeof after === "object" ? after : undefined;
      this.serve(head, buf.subarray(head.headLength, total));
    }
  }

  /** Bytes came for the body the route waits for: hand it over once complete. */
  private bodyIn(): void {
    const head = this.head as LeanHead;
    const total = head.headLength + head.bodyLength;
    const buf = this.buf as Buffer;
    if (buf.length < total) {
      if (buf.length > MAX_BUFFERED) this.socket.pause();
      return;
    }
    const body = this.body as NonNullable<typeof this.body>;
    this.body = undefined;
    this.head = undefined;
    this.consume(total);
    body.resolve(buf.subarray(head.headLength, total));
  }

  /** The client went away before the body the route waits for was in (node:http: 'aborted'). */
  private bodyLost(): void {
    const body = this.body;
    if (body === undefined) return;
    this.body = undefined;
    body.reject(endedEarly());
  }

  /** The request of `total` bytes at the start of `buf` is taken; what follows starts the next one. */
  private consume(total: number): void {
    const buf = this.buf as Buffer;
    this.buf = buf.length > total ? buf.subarray(total) : undefined;
    this.since = this.buf === undefined ? 0 : Date.now();
  }

  private serve(head: LeanHead, body: Buffer | Promise<Buffer>): void {
    this.busy = true;
    this.closeAfter = head.close;
    const req = new LeanRequest(head.method, head.target, head.headers, this.socket, body);
    const res = new LeanResponse(this.socket, this);
    try {
      this.front.server.emit("request", req, res);
    } catch {
      res.destroy();
    }
  }

  /** For the answer being written: whether it closes the connection (`Connection: close`). */
  closes(): boolean {
    // an answer given before its request's body was in closes (node:http cannot keep such a
    // connection either: the rest of the body would be taken for the next request)
    return this.closeAfter || this.front.closing || this.ended || this.body !== undefined;
  }

  /** For the answer being written: `Keep-Alive: timeout=` (the server's keepAliveTimeout). */
  get keepAliveSeconds(): number {
    return Math.floor(this.front.server.keepAliveTimeout / 1000); // as node:http writes it
  }

  /** The answer was written (or the socket destroyed instead): the next request may be served. */
  answered(closed: boolean): void {
    this.busy = false;
    this.idleSince = Date.now();
    if (closed) {
      this.bodyLost();
      this.close();
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    if (this.buf === undefined) return;
    if (this.socket.writableLength > MAX_UNSENT) this.socket.once("drain", () => this.next());
    else this.next();
  }

  /**
   * The sweep, as node:http's own: a request whose head (headersTimeout) or whole body
   * (requestTimeout) is not in time gets 408 and the connection closes; an idle connection
   * closes after keepAliveTimeout.
   */
  check(now: number): void {
    if (this.gone || (this.busy && this.body === undefined)) return;
    const { server } = this.front;
    if (this.since !== 0) {
      const limit = this.head === undefined ? server.headersTimeout : server.requestTimeout;
      if (limit > 0 && now - this.since > limit) {
        // as node:http does: 'clientError' with its timeout code (the server's handler answers
        // 408 and closes), or the socket is destroyed when nobody handles it
        this.bodyLost();
        this.leave();
        const error = Object.assign(new Error("request timeout"), { code: "ERR_HTTP_REQUEST_TIMEOUT" });
        if (!server.emit("clientError", error, this.socket)) this.socket.destroy();
      }
    } else if (server.keepAliveTimeout > 0 && now - this.idleSince > server.keepAliveTimeout) {
      this.destroy();
    }
  }

  /** As node:http's closeIdleConnections: no request being received or answered. */
  closeIfIdle(): void {
    if (!this.busy && this.buf === undefined) this.destroy();
  }

  destroy(): void {
    this.socket.destroy();
    this.bodyLost();
    this.leave();
  }

  private close(): void {
    if (!this.socket.destroyed) this.socket.end();
    this.leave();
  }

  /** Hands the connection, with the bytes not consumed yet, to node:http. */
  private handOff(): void {
    const rest = this.buf;
    this.buf = undefined;
    this.head = undefined;
    this.leave(true);
    this.front.handOff(this.socket, rest);
  }

  /** Stops serving the connection: it was handed to node:http, or it is closing. */
  private leave(handedOff = false): void {
    if (this.gone) return;
    this.gone = true;
    const { socket } = this;
    socket.off("data", this.onData);
    socket.off("end", this.onEnd);
    socket.off("error", this.onError);
    socket.off("close", this.onClose);
    // a closing socket may still report an error (a reset): nothing else listens to it
    if (!handedOff) socket.on("error", ignore);
    this.front.connections.delete(this);
  }
}

function ignore(): void {}

/** The routes Herald serves on the lean path: the JSON publish routes (their handlers read the body with `readBody`). */
export const LEAN_ROUTES = [
  { method: "POST", path: "/publish" },
  { method: "POST", path: "/publish/batch" },
] as const;
