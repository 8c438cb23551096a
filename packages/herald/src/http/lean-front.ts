import type { Server } from "node:http";
import type { Socket } from "node:net";
import { endedEarly } from "./body.ts";
import { type LeanAnswerSink, LeanRequest, LeanResponse } from "./lean-exchange.ts";
import { type LeanHead, MAX_LEAN_BODY, MAX_LEAN_HEAD, readLeanHead } from "./lean-head.ts";

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
    handOff: (socket, rest, ended) => {
      for (const listener of nodeListeners) listener.call(server, socket);
      socket.resume();
      if (rest !== undefined && rest.length > 0) socket.emit("data", rest);
      if (ended) socket.emit("end"); // node:http missed it: its parser decides about what is left
    },
  };
  server.on("connection", (socket: Socket) => {
    front.connections.add(new LeanConnection(socket, front));
  });
  // node:http's timeouts, checked as often as node:http checks its own
  const sweeper = setInterval(
    () => {
      const now = Date.now();
      for (const connection of front.connections) connection.check(now);
    },
    Math.max(10, (server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval ?? 1000),
  );
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
  /** Gives `socket` to node:http with `rest`, the bytes not consumed yet (`ended`: the client half-closed after them). */
  handOff(socket: Socket, rest: Buffer | undefined, ended: boolean): void;
}

/** Buffered bytes above which a connection waiting for its answer stops reading (pipelining bound). */
const MAX_BUFFERED = MAX_LEAN_HEAD + MAX_LEAN_BODY;
/** Answers not yet taken by the client above which the next request waits for `drain`. */
const MAX_UNSENT = 64 * 1024;

/** One connection while it is on the lean path. */
class LeanConnection implements LeanAnswerSink {
  /**
   * Bytes received and not consumed yet (the rest of the request being received, and what
   * follows), as they came: joined only when a head is read or a body is complete, so a body
   * dripped byte by byte costs linear time.
   */
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes at the start of the buffer known to hold complete lean requests (see `next`). */
  private checked = 0;
  /** A request is with the route; the next one waits. */
  private busy = false;
  /**
   * When the request being received began (0: none): its first byte, or for the connection's first
   * request the connection's start (node:http's headers timeout also covers a client that sends
   * nothing at all).
   */
  private since = Date.now();
  /** The head of the request at the start of the buffer, once complete (its body is still coming). */
  private head: LeanHead | undefined;
  /**
   * The request whose body is still coming: settled when the body is in (or not). It may have been
   * answered already (401, 413): its body is then thrown away as it comes, as node:http does, and
   * the next request waits for its end.
   */
  private body: { resolve(body: Buffer): void; reject(error: Error): void } | undefined;
  /** The end of the last answer, or the connection's start. */
  private idleSince = Date.now();
  /** The client half-closed: once every complete request is answered, the connection closes. */
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
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.body !== undefined) this.bodyIn();
    else if (!this.busy) this.next();
    else if (this.size > MAX_BUFFERED) this.socket.pause();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    // a body cut short: node:http's parser fails at the end of input (400, closed), then the route
    // learns that the body will not come
    if (this.body !== undefined) this.failAtEnd();
    else if (!this.busy) this.next();
  };

  private readonly onError = (): void => {
    this.destroy();
  };

  private readonly onClose = (): void => {
    this.bodyLost();
    this.leave();
  };

  /** The buffered bytes, as one buffer. */
  private bytes(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.size)];
    return this.chunks[0] as Buffer;
  }

  /**
   * Serves the buffered requests, one at a time, until one is incomplete or not lean. As node:http
   * does, a request goes to the route once its head is in; its body may still be coming.
   *
   * Before a request is served, every complete request buffered behind it is read too: when one
   * of them is no lean request (another route, a doubtful head, garbage), the connection goes to
   * node:http with all of them, as node:http would have had them all at once (it then decides,
   * for instance, to close after the first answer rather than answer the rest).
   */
  private next(): void {
    while (!this.busy && !this.gone && this.body === undefined) {
      if (this.size === 0) {
        if (this.ended) this.close();
        return;
      }
      const buf = this.bytes();
      const head = this.head ?? readLeanHead(buf, this.front.lines);
      if (head === "node" || (head !== "more" && this.doubtAhead(buf, head))) {
        this.handOff();
        return;
      }
      if (head === "more") {
        if (this.ended) this.failAtEnd();
        return;
      }
      const total = head.headLength + head.bodyLength;
      if (buf.length < total) {
        if (this.ended) {
          this.failAtEnd();
          return;
        }
        this.head = head;
        const body = new Promise<Buffer>((resolve, reject) => {
          this.body = { resolve, reject };
        });
        body.catch(() => {}); // a route that answered without reading it (401, 429) never awaits it
        this.serve(head, body);
        return;
      }
      this.head = undefined;
      this.consume(total);
      this.serve(head, buf.subarray(head.headLength, total));
    }
  }

  /** Whether a complete request buffered after `first` (at the start of `buf`) is no lean request. */
  private doubtAhead(buf: Buffer, first: LeanHead): boolean {
    let at = Math.max(this.checked, first.headLength + first.bodyLength);
    while (at < buf.length) {
      const head = readLeanHead(buf.subarray(at), this.front.lines);
      if (head === "node") return true;
      if (head === "more" || at + head.headLength + head.bodyLength > buf.length) break;
      at += head.headLength + head.bodyLength;
    }
    this.checked = at;
    return false;
  }

  /** Bytes came for the body the route waits for (or that is being thrown away). */
  private bodyIn(): void {
    const head = this.head as LeanHead;
    const total = head.headLength + head.bodyLength;
    if (this.size < total) return;
    const body = this.body as NonNullable<typeof this.body>;
    const buf = this.bytes();
    this.body = undefined;
    this.head = undefined;
    this.consume(total);
    body.resolve(buf.subarray(head.headLength, total));
    if (!this.busy) this.next(); // it was answered already: the next request's turn
  }

  /** The client went away before the body the route waits for was in (node:http: 'aborted'). */
  private bodyLost(): void {
    const body = this.body;
    if (body === undefined) return;
    this.body = undefined;
    body.reject(endedEarly());
  }

  /**
   * The client half-closed in the middle of a request: as node:http's parser at the end of input,
   * a 'clientError' (the server's handler answers 400 and closes), then the route (if it has the
   * request) learns that its body will not come.
   */
  private failAtEnd(): void {
    const error = Object.assign(new Error("Parse Error: Invalid EOF state"), {
      code: "HPE_INVALID_EOF_STATE",
    });
    this.fail(error);
  }

  /** As node:http on a parse error or a timeout: 'clientError', or the socket destroyed when nobody handles it. */
  private fail(error: Error): void {
    this.leave();
    const { server } = this.front;
    if (!server.emit("clientError", error, this.socket)) this.socket.destroy();
    this.bodyLost();
  }

  /** The request of `total` bytes at the start of the buffer is taken; what follows starts the next one. */
  private consume(total: number): void {
    const buf = this.bytes();
    this.size -= total;
    this.checked = Math.max(0, this.checked - total);
    this.chunks = this.size > 0 ? [buf.subarray(total)] : [];
    this.since = this.size === 0 ? 0 : Date.now();
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
    return this.closeAfter || this.front.closing;
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
    if (this.body !== undefined) return; // answered before its body was in: the rest is thrown away first
    if (this.socket.isPaused()) this.socket.resume();
    if (this.size === 0 && !this.ended) return;
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
        this.fail(Object.assign(new Error("request timeout"), { code: "ERR_HTTP_REQUEST_TIMEOUT" }));
      }
    } else if (server.keepAliveTimeout > 0 && now - this.idleSince > server.keepAliveTimeout) {
      this.destroy();
    }
  }

  /** As node:http's closeIdleConnections: no request being received or answered. */
  closeIfIdle(): void {
    if (!this.busy && this.size === 0) this.destroy();
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
    const rest = this.size > 0 ? this.bytes() : undefined;
    this.chunks = [];
    this.size = 0;
    this.head = undefined;
    this.leave(true);
    this.front.handOff(this.socket, rest, this.ended);
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
