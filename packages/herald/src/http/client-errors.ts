import { ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

/**
 * node:http's 'clientError': bytes that are no valid request (400), headers too large (431), a
 * request not received within HERALD_HEADERS_TIMEOUT / HERALD_REQUEST_TIMEOUT (408, also for a
 * connection that never sent a byte).
 *
 * - No response in flight on the connection: the status is written, then the socket is closed
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
  const inFlight = (socket as { _httpMessage?: unknown })._httpMessage;
  if (inFlight instanceof ServerResponse && !inFlight.writableEnded && inFlight.req.complete) {
    closeAfter(inFlight);
    return;
  }
  if (!socket.writable || (inFlight instanceof ServerResponse && inFlight.headersSent)) {
    socket.destroy();
    return;
  }
  const status =
    error.code === "HPE_HEADER_OVERFLOW"
      ? "431 Request Header Fields Too Large"
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? "408 Request Timeout"
        : "400 Bad Request";
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
}

/** The connection closes once `res` has ended (node:http's own "last response" flag). */
function closeAfter(res: ServerResponse): void {
  if (!res.headersSent) res.shouldKeepAlive = false;
  else (res as { _last?: boolean })._last = true;
}
