import type { ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { Socket } from "node:net";

/**
 * Memory per idle stream: node:http keeps a connection's HTTP parser attached until the connection
 * closes, ready for the next keep-alive request: about 2.2 KB of C++ memory (llhttp plus room for
 * 32 header name/value pairs) and about 0.6 KB of JS objects (the parser object, the bound `data`
 * and `end` listeners that hold it, the three `socket.on` wrappers node:http installs while a parser
 * is attached). An SSE response never ends by itself, so no further request can be served on its
 * connection while it lives: `releaseParser` hands the parser back to node:http's pool, the way
 * node:http does itself when a connection is upgraded (WebSocket).
 *
 * What changes for the connection once released:
 * - bytes the client sends after its request (a request pipelined behind an endless stream, which
 *   could never be answered before the stream ends) are read and ignored; a request node:http had
 *   already parsed behind the stream is never handled either (http/in-turn.ts) and is dropped
 *   when the connection closes;
 * - the client's FIN ends our side too (`socket.end()`, as node:http does): the stream closes as
 *   "client-closed";
 * - the connection is not reused after the response ends, however it ends: node:http closes it
 *   once the last bytes are out (`res._last`, as for `Connection: close`), since without a parser
 *   it could not read the next request.
 *
 * Relies on node:http internals (Node 20: `_http_common.freeParser`, the bound `socketOnData` /
 * `socketOnEnd` listeners). Each is checked first; when one is not as expected (another Node
 * version), nothing is done and the connection keeps its parser: only memory is at stake.
 */

type Parser = object;
type HttpSocket = Socket & { parser?: Parser | null; _httpMessage?: unknown };
type HttpResponse = ServerResponse & { _last?: unknown };
type FreeParser = (parser: Parser, req: unknown, socket: Socket) => void;

const freeParser = loadFreeParser();

function loadFreeParser(): FreeParser | undefined {
  try {
    const common = createRequire(import.meta.url)("_http_common") as { freeParser?: unknown };
    return typeof common.freeParser === "function" ? (common.freeParser as FreeParser) : undefined;
  } catch {
    return undefined;
  }
}

// Shared listeners (no closure per connection): `this` is the socket.
function ignore(): void {}
function endOnPeerEnd(this: Socket): void {
  this.end();
}

/** The one listener of `event` named `name`, or undefined when there is not exactly one. */
function only(socket: Socket, event: string, name: string): ((...args: unknown[]) => void) | undefined {
  const found = socket.listeners(event).filter((listener) => listener.name === name);
  return found.length === 1 ? (found[0] as (...args: unknown[]) => void) : undefined;
}

/**
 * Releases the HTTP parser of `res`'s connection when `res` is its current response, its head is
 * sent and its request was read completely (requests parsed behind it, if any, are never handled:
 * http/in-turn.ts; a body of theirs still coming is no longer read). Returns whether it did. Call it outside of any node:http callback (e.g. from `setImmediate`): the parser must not
 * be running.
 */
export function releaseParser(res: HttpResponse): boolean {
  const socket = res.socket as HttpSocket | null;
  if (freeParser === undefined || socket === null || socket.destroyed) return false;
  if (!res.headersSent || res.writableEnded || typeof res._last !== "boolean") return false;
  const parser = socket.parser;
  if (parser == null || !res.req.complete || socket._httpMessage !== res) return false;
  const onData = only(socket, "data", "bound socketOnData");
  const onEnd = only(socket, "end", "bound socketOnEnd");
  if (onData === undefined || onEnd === undefined) return false;
  socket.removeListener("data", onData);
  socket.removeListener("end", onEnd);
  // node:http's own consumption hooks, as its upgrade path removes them
  for (const event of ["pause", "resume"]) {
    for (const listener of socket.listeners(event)) {
      if (listener.name === "onSocketPause" || listener.name === "onSocketResume") {
        socket.removeListener(event, listener as () => void);
      }
    }
  }
  res._last = true; // the connection closes when this response ends (node:http's resOnFinish)
  freeParser(parser, res.req, socket); // stops its direct reads, leaves the server's list, back to the pool
  // Through node:http's `socket.on` wrapper, which restores the plain `on` now that the parser is gone.
  socket.on("data", ignore);
  socket.on("end", endOnPeerEnd);
  // the client's FIN came before the release (node:http, allowing half-open, only marked the
  // response as the last): it ends the stream now
  if (socket.readableEnded) socket.end();
  return true;
}

const waiting: ServerResponse[] = [];

/** Releases `res`'s parser at the end of this event-loop iteration (one `setImmediate` for all). */
export function releaseParserSoon(res: ServerResponse): void {
  if (freeParser === undefined) return;
  if (waiting.push(res) === 1) setImmediate(releaseWaiting);
}

function releaseWaiting(): void {
  const all = waiting.splice(0);
  for (const res of all) releaseParser(res);
}
