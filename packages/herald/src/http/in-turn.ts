import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * One connection's requests are handled one at a time, in the order they came (RFC 9112 9.3.2: a
 * server may handle pipelined requests in parallel only when all of them are safe; a publish is not).
 *
 * node:http emits 'request' for every pipelined request as soon as its head is parsed, but gives a
 * response its connection only once the response before it has finished (the response's 'socket'
 * event). `inTurn(listener)` runs `listener` for a request at that moment: at once when its
 * response has the connection (the usual case: one request at a time, and every request of the lean
 * path, http/lean-front.ts, which serves one at a time itself), otherwise when the answer before it
 * is complete. So a request starts after the previous one on its connection was answered (a publish
 * is stored before it is answered), and answers keep the order of the requests.
 *
 * Behind an event stream: a stream is the last response on its connection (http/sse/connection.ts:
 * when it ends, the connection closes), so a request pipelined behind one never gets the
 * connection: its listener never runs, nothing of it is carried out or registered, its body is
 * not read (the stream's connection stops reading, http/parser-release.ts), and node:http drops it
 * when the connection closes. It is ignored, as docs/wire-format.md says.
 *
 * A client's half-close after pipelined requests: each is still answered in turn, then the
 * connection closes (the server allows half-open connections, herald.ts), as on the lean path.
 *
 * Cost when the response has its connection: one property read.
 */
export function inTurn<R>(
  listener: (req: IncomingMessage, res: ServerResponse) => R,
): (req: IncomingMessage, res: ServerResponse) => R | undefined {
  return (req, res) => {
    if (res.socket !== null) return listener(req, res);
    res.once("socket", () => {
      listener(req, res);
    });
    return undefined;
  };
}
