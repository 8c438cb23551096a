/**
 * A pool of keep-alive HTTP/1.1 connections on raw sockets, with NO pipelining: each connection
 * sends one request, waits for its whole answer (status line, headers, then `Content-Length`
 * bytes or a chunked body up to its last chunk), then sends the next. This is how producers
 * publish (an HTTP client's keep-alive pool); the server sees `connections` requests in flight at
 * most, one per connection. Raw sockets cost the client far less CPU than node:http, so the figure
 * measures the server.
 */
import { connect } from "node:net";

export interface PoolResult {
  sent: number;
  /** Answers with a 2xx status. */
  ok: number;
  /** Other answers, and requests lost with a connection closed or reset. */
  failed: number;
  elapsedMs: number;
  /** Median time from sending a request to the end of its answer. */
  p50Ms: number;
  p99Ms: number;
}

const HEAD_END = Buffer.from("\r\n\r\n");
const LAST_CHUNK = Buffer.from("0\r\n\r\n");

/**
 * The length of the complete answer at the start of `buf` (head and body), or -1 if more bytes
 * are needed; `status` receives the status code.
 */
function answerLength(buf: Buffer, status: { code: number }): number {
  const headEnd = buf.indexOf(HEAD_END);
  if (headEnd === -1) return -1;
  const head = buf.toString("latin1", 0, headEnd);
  status.code = Number(head.slice(9, 12));
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (length !== null) {
    const total = headEnd + 4 + Number(length[1]);
    return buf.length >= total ? total : -1;
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    // walk the chunks: size line, data, CRLF; the last chunk is "0\r\n\r\n"
    let at = headEnd + 4;
    for (;;) {
      const lineEnd = buf.indexOf("\r\n", at);
      if (lineEnd === -1) return -1;
      const size = Number.parseInt(buf.toString("latin1", at, lineEnd), 16);
      if (size === 0) {
        const end = buf.indexOf(LAST_CHUNK, at);
        return end === -1 ? -1 : end + LAST_CHUNK.length;
      }
      at = lineEnd + 2 + size + 2;
      if (at > buf.length) return -1;
    }
  }
  return headEnd + 4; // no body (204, 304, or a 1xx)
}

/**
 * Sends requests built by `body(i)` to `path` for `durationMs` over `connections` keep-alive
 * sockets, one in flight on each; resolves once every sent request is answered.
 */
export function runKeepAlivePool(options: {
  host: string;
  port: number;
  path: string;
  contentType: string;
  connections: number;
  durationMs: number;
  body: (i: number) => string;
}): Promise<PoolResult> {
  const { host, port, path, contentType, connections, durationMs, body } = options;
  let sent = 0;
  let ok = 0;
  let failed = 0;
  const times: number[] = [];
  const started = performance.now();
  let lastAnswer = started;
  const head = `POST ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: ${contentType}\r\nContent-Length: `;
  return new Promise((resolve) => {
    let open = connections;
    const finish = () => {
      if (--open > 0) return;
      times.sort((a, b) => a - b);
      const at = (p: number) => times[Math.min(times.length - 1, Math.floor(times.length * p))] ?? Number.NaN;
      resolve({ sent, ok, failed, elapsedMs: lastAnswer - started, p50Ms: at(0.5), p99Ms: at(0.99) });
    };
    for (let c = 0; c < connections; c++) {
      const socket = connect({ host, port });
      socket.setNoDelay(true);
      let waiting = false;
      let sentAt = 0;
      let tail: Buffer | undefined;
      const status = { code: 0 };
      let done = false;
      const end = () => {
        if (done) return;
        done = true;
        socket.destroy();
        finish();
      };
      const next = () => {
        if (performance.now() - started >= durationMs) return end();
        const text = body(sent++);
        waiting = true;
        sentAt = performance.now();
        socket.write(`${head}${Buffer.byteLength(text)}\r\n\r\n${text}`);
      };
      socket.on("connect", next);
      socket.on("data", (chunk: Buffer) => {
        const buf = tail === undefined ? chunk : Buffer.concat([tail, chunk]);
        tail = undefined;
        const length = answerLength(buf, status);
        if (length === -1) {
          tail = Buffer.from(buf);
          return;
        }
        const now = performance.now();
        times.push(now - sentAt);
        lastAnswer = now;
        waiting = false;
        if (status.code >= 200 && status.code <= 299) ok++;
        else failed++;
        if (length < buf.length) {
          // bytes after the answer: the server sent more than one answer to one request
          failed++;
          return end();
        }
        next();
      });
      socket.on("error", () => {});
      socket.on("close", () => {
        if (waiting) failed++;
        end();
      });
    }
  });
}
