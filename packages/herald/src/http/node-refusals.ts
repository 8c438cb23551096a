import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { HeraldError } from "../core/errors.ts";
import { refuseOnSocket } from "./client-errors.ts";
import { sendError } from "./errors.ts";

/**
 * Requests node:http would refuse by itself with an empty answer, or none, answered here with
 * Herald's JSON error (a code, and a message saying what is wrong and what to send instead); each
 * closes the connection, since what follows on it (a body, a tunnel) is not read.
 *
 * - An HTTP/1.1 request without `Host` (RFC 9112 3.2): 400. The server is created with
 *   `requireHostHeader: false` and the request listener asks `lacksHost` first.
 * - `Expect` with anything but `100-continue` (node:http's 'checkExpectation'): 417.
 * - `CONNECT` (node:http's 'connect'; without a listener node:http closes the connection without a
 *   word): 400, Herald is no proxy.
 * - A `Transfer-Encoding` other than one `chunked` (node:http reads a body whose last coding is
 *   `chunked` and leaves the others, `gzip` say, to the handler, which would take compressed bytes
 *   for JSON): 501, as RFC 9112 6.1 asks of a coding the server does not understand. The request
 *   listener asks `unknownTransferCoding` first.
 */

const CLOSE = { Connection: "close" } as const;

/** Whether `req` is an HTTP/1.1 request without `Host`. One header read on the hot path. */
export function lacksHost(req: IncomingMessage): boolean {
  return req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor === 1;
}

export function refuseMissingHost(res: ServerResponse): void {
  sendError(
    res,
    new HeraldError(
      "bad_request",
      "an HTTP/1.1 request must carry a Host header (RFC 9112 3.2): add `Host: <host>[:<port>]` (the name the client connects to); the connection is closed",
    ),
    CLOSE,
  );
}

/** node:http's 'checkExpectation' listener. */
export function refuseExpectation(_req: IncomingMessage, res: ServerResponse): void {
  sendError(
    res,
    new HeraldError(
      "expectation_failed",
      "the request's Expect header asks for something Herald cannot do: the only expectation it meets is `Expect: 100-continue`; send the request without Expect, or with `Expect: 100-continue`; the connection is closed",
    ),
    CLOSE,
  );
}

/** node:http's 'connect' listener. */
export function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  refuseOnSocket(socket, {
    status: "400 Bad Request",
    code: "bad_request",
    message:
      "CONNECT asks for a tunnel, and Herald is no proxy: send GET or POST requests to Herald's own paths (docs/http-api.md); the connection is closed",
  });
}

/**
 * The `Transfer-Encoding` of `req` when it is anything but `chunked` alone (`gzip, chunked`,
 * `identity`, `chunked, chunked`, a parameter), else undefined. One header read on the hot path.
 */
export function unknownTransferCoding(req: IncomingMessage): string | undefined {
  const codings = req.headers["transfer-encoding"];
  if (codings === undefined || codings.toLowerCase() === "chunked") return undefined;
  return codings;
}

export function refuseTransferCoding(res: ServerResponse, codings: string): void {
  sendError(
    res,
    new HeraldError(
      "not_implemented",
      `Transfer-Encoding ${JSON.stringify(codings)} is not supported: Herald reads bodies as sent, framed by Content-Length or by \`Transfer-Encoding: chunked\` alone; send the body uncompressed; the connection is closed`,
    ),
    CLOSE,
  );
}
