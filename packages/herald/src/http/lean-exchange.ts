import { type IncomingHttpHeaders, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";

/**
 * Where a lean request keeps its body: the bytes when they were all in before the route ran, else
 * a promise of them (rejected when the client goes away first). `readBody` takes it here.
 */
export const LEAN_BODY = Symbol("herald.leanBody");

/**
 * A request read by the lean path (http/lean-front.ts), handed to the server's request listener in
 * place of node:http's IncomingMessage. It has what the routes served there use (the publish
 * routes: `method`, `url`, `headers`, `socket`, and the body through `readBody`), nothing else: a
 * route that needs more of IncomingMessage is not served on the lean path.
 */
export class LeanRequest {
  readonly httpVersion = "1.1";
  readonly [LEAN_BODY]: Buffer | Promise<Buffer>;

  constructor(
    readonly method: string,
    readonly url: string,
    readonly headers: IncomingHttpHeaders,
    readonly socket: Socket,
    body: Buffer | Promise<Buffer>,
  ) {
    this[LEAN_BODY] = body;
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }
}

/**
 * The end of a keep-alive answer's head (`Date`, `Connection`, `Keep-Alive`, blank line), made
 * again when the second (or the keep-alive timeout) changes, as node:http caches its `Date`.
 */
let tailSecond = -1;
let tailKeepAlive = -1;
let tailKeep = "";
let tailClose = "";
function headTail(close: boolean, keepAliveSeconds: number): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== tailSecond || keepAliveSeconds !== tailKeepAlive) {
    tailSecond = second;
    tailKeepAlive = keepAliveSeconds;
    const date = `Date: ${new Date(now).toUTCString()}\r\n`;
    tailKeep = `${date}Connection: keep-alive\r\nKeep-Alive: timeout=${keepAliveSeconds}\r\n\r\n`;
    tailClose = `${date}Connection: close\r\n\r\n`;
  }
  return close ? tailClose : tailKeep;
}

const statusLines = new Map<number, string>();
function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "unknown"}\r\n`;
    statusLines.set(status, line);
  }
  return line;
}

// what node:http refuses in a header value (ERR_INVALID_CHAR)
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

type HeaderValue = string | number | readonly string[];

/** The connection side of an answer (http/lean-front.ts). */
export interface LeanAnswerSink {
  /** Whether this answer closes the connection (`Connection: close`). */
  closes(): boolean;
  /** `Keep-Alive: timeout=` of a keep-alive answer. */
  readonly keepAliveSeconds: number;
  /** Called once, when the answer was written (or the socket destroyed instead). */
  answered(closed: boolean): void;
}

/**
 * The answer to a LeanRequest, in place of node:http's ServerResponse: `setHeader`, `getHeader`,
 * `writeHead`, `end(body)` (the whole answer then goes out in one write, with `Date`,
 * `Connection` and `Keep-Alive` as node:http adds them), `headersSent`, `destroy()`. No streaming
 * `write()`. Header values are checked as node:http checks them (TypeError on CR, LF, ...).
 */
export class LeanResponse {
  statusCode = 200;
  headersSent = false;
  writableEnded = false;
  /** Headers set with `setHeader`, by lowercased name. */
  private extra: Map<string, [string, HeaderValue]> | undefined;
  private head: Record<string, HeaderValue> | undefined;
  private finished = false;

  constructor(
    private readonly socket: Socket,
    private readonly sink: LeanAnswerSink,
  ) {}

  setHeader(name: string, value: HeaderValue): this {
    if (this.headersSent) throw new Error("cannot set headers after they are sent");
    this.extra ??= new Map();
    this.extra.set(name.toLowerCase(), [name, value]);
    return this;
  }

  getHeader(name: string): HeaderValue | undefined {
    return this.extra?.get(name.toLowerCase())?.[1];
  }

  writeHead(status: number, headers?: Record<string, HeaderValue>): this {
    if (this.headersSent) throw new Error("writeHead called twice");
    this.statusCode = status;
    this.head = headers;
    this.headersSent = true;
    return this;
  }

  end(body?: string): this {
    if (this.writableEnded) return this;
    this.writableEnded = true;
    this.headersSent = true;
    const close = this.sink.closes();
    let text = statusLine(this.statusCode);
    const head = this.head;
    let length = false;
    if (this.extra !== undefined) {
      for (const [key, [name, value]] of this.extra) {
        if (head === undefined || !hasName(head, key)) {
          text += line(name, value);
          length ||= key === "content-length";
        }
      }
    }
    if (head !== undefined) {
      for (const name in head) {
        text += line(name, head[name] as HeaderValue);
        length ||= name.length === 14 && name.toLowerCase() === "content-length";
      }
    }
    // node:http frames an answer without Content-Length itself; here it is always given
    if (!length) text += `Content-Length: ${body === undefined ? 0 : Buffer.byteLength(body)}\r\n`;
    text += headTail(close, this.sink.keepAliveSeconds);
    if (body !== undefined) text += body;
    if (this.socket.writable) this.socket.write(text);
    this.finish(close);
    return this;
  }

  destroy(): this {
    this.writableEnded = true;
    this.socket.destroy();
    this.finish(true);
    return this;
  }

  private finish(closed: boolean): void {
    if (this.finished) return;
    this.finished = true;
    this.sink.answered(closed);
  }
}

function hasName(head: Record<string, HeaderValue>, key: string): boolean {
  for (const name in head) if (name.toLowerCase() === key) return true;
  return false;
}

function line(name: string, value: HeaderValue): string {
  if (typeof value === "number") return `${name}: ${value}\r\n`;
  if (typeof value === "string") {
    if (INVALID_VALUE.test(value)) throw new TypeError(`Invalid character in header content ["${name}"]`);
    return `${name}: ${value}\r\n`;
  }
  let out = "";
  for (const v of value) out += line(name, v);
  return out;
}
