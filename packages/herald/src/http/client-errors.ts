import { maxHeaderSize, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { HeraldErrorCode } from "../core/errors.ts";

/**
 * node:http's 'clientError': bytes that are no valid request (400), headers too large (431), a
 * request not received within HERALD_HEADERS_TIMEOUT / HERALD_REQUEST_TIMEOUT (408, also for a
 * connection that never sent a byte).
 *
 * - No response in flight on the connection: the status is written with Herald's JSON error (a
 *   code, and a message saying what was wrong and what to do), then the socket is closed
 *   once it is flushed. Closed, not only ended: a client that never closes its side (never answers
 *   our FIN) would otherwise hold a file descriptor for ever.
 * - A response in flight whose request was received whole (an event stream, or a request being
 *   answered while garbage was pipelined behind it): the error is about the bytes after that
 *   request. Nothing is written, since it would land inside that response: the response goes on
 *   and the connection closes once it ends (an event stream's parser is handed back meanwhile,
 *   src/server/parser-release.ts, and later bytes are ignored).
 * - A request cut off while its body was still coming (HERALD_REQUEST_TIMEOUT): 408 unless its
 *   answer has begun, and the connection is closed, as without a response.
 */
export function onClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  refuseOnSocket(socket, refusalOf(error));
}

/** A refusal written straight to a connection: status line, Herald's error code and message. */
export interface Refusal {
  readonly status: string;
  readonly code: HeraldErrorCode;
  readonly message: string;
}

/**
 * Answers `refusal` on a connection node:http no longer parses, as `onClientError` describes: JSON
 * error then closed, or nothing written (the connection closes after the response in flight).
 */
export function refuseOnSocket(socket: Duplex, refusal: Refusal): void {
  const inFlight = (socket as { _httpMessage?: unknown })._httpMessage;
  if (inFlight instanceof ServerResponse && !inFlight.writableEnded && inFlight.req.complete) {
    closeAfter(inFlight);
    return;
  }
  if (!socket.writable || (inFlight instanceof ServerResponse && inFlight.headersSent)) {
    socket.destroy();
    return;
  }
  const { status, code, message } = refusal;
  const body = JSON.stringify({ error: code, message });
  socket.end(
    `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Cache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

/**
 * The length of the request line, when the bytes node gives with the error (`rawPacket`, the chunk
 * being parsed) start with it; undefined when they do not (a later chunk: it cannot be told).
 */
function requestLineLength(error: NodeJS.ErrnoException): number | undefined {
  const raw = (error as { rawPacket?: unknown }).rawPacket;
  if (!Buffer.isBuffer(raw) || !/^[A-Z]+ /.test(raw.subarray(0, 16).toString("latin1"))) return undefined;
  const end = raw.indexOf("\r\n");
  return end === -1 ? raw.length : end;
}

/** The status line, code and message (what is wrong, what to do) of a 'clientError'. */
function refusalOf(error: NodeJS.ErrnoException): Refusal {
  if (error.code === "HPE_HEADER_OVERFLOW") {
    const over = `over ${maxHeaderSize} bytes (node's --max-http-header-size)`;
    const url =
      "for a long list of topics, send them in the body of a QUERY request (docs/mercure.md), or open several streams";
    const headers = "send fewer or shorter headers (large cookies, long tokens)";
    const line = requestLineLength(error);
    return {
      status: "431 Request Header Fields Too Large",
      code: "headers_too_large",
      message:
        line === undefined
          ? `the request line (its URL) and headers are ${over}: shorten the URL (${url}) or ${headers}`
          : line >= maxHeaderSize / 2
            ? `the request line (its URL) and headers are ${over}, most of it the URL: ${url}`
            : `the request headers are ${over}: ${headers}`,
    };
  }
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    return {
      status: "408 Request Timeout",
      code: "request_timeout",
      message:
        "the request did not arrive in time (its headers within HERALD_HEADERS_TIMEOUT, the whole request within HERALD_REQUEST_TIMEOUT): send each request whole once the connection is open; the connection is closed",
    };
  }
  if (error.code === "HPE_INVALID_EOF_STATE") {
    return {
      status: "400 Bad Request",
      code: "bad_request",
      message:
        "the client closed its side of the connection before its request was complete: send the whole request (headers, and the body Content-Length announces) before closing",
    };
  }
  const reason = (error as { reason?: unknown }).reason;
  return {
    status: "400 Bad Request",
    code: "bad_request",
    message: `the bytes received are not an HTTP/1.1 request${typeof reason === "string" && reason !== "" ? ` (${reason})` : ""}: send a request line "<METHOD> <path> HTTP/1.1", then "Name: value" header lines ending in CRLF, with Content-Length or Transfer-Encoding (not both) for a body; the connection is closed`,
  };
}

/** The connection closes once `res` has ended (node:http's own "last response" flag). */
function closeAfter(res: ServerResponse): void {
  if (!res.headersSent) res.shouldKeepAlive = false;
  else (res as { _last?: boolean })._last = true;
}
