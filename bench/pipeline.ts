/**
 * A pipelining HTTP/1.1 publisher on raw sockets, for the publishing-rate scenario: each connection
 * keeps `depth` requests in flight and counts the answers by their status lines. Costs the client
 * far less CPU than node:http, so the figure measures the server.
 */
import { connect, type Socket } from "node:net";

export interface PipelineResult {
  sent: number;
  ok: number;
  failed: number;
  elapsedMs: number;
}

const STATUS = Buffer.from("HTTP/1.1 ");
const OK = Buffer.from("HTTP/1.1 2"); // any 2xx: Herald answers 200, nchan 201 or 202

/** Occurrences of `needle` in `buf` that start before `end`. */
function count(buf: Buffer, needle: Buffer, end: number): number {
  let n = 0;
  let at = buf.indexOf(needle);
  while (at !== -1 && at < end) {
    n++;
    at = buf.indexOf(needle, at + needle.length);
  }
  return n;
}

/**
 * Sends requests built by `body(i)` (JSON text) to `path` for `durationMs` over `connections`
 * sockets, `depth` in flight on each; resolves once every sent request is answered.
 */
export function runPipeline(options: {
  host: string;
  port: number;
  path: string;
  connections: number;
  depth: number;
  durationMs: number;
  body: (i: number) => string;
}): Promise<PipelineResult> {
  const { host, port, path, connections, depth, durationMs, body } = options;
  let sent = 0;
  let ok = 0;
  let answered = 0;
  const started = performance.now();
  let stopAt = Number.POSITIVE_INFINITY;
  const make = () => {
    const text = body(sent++);
    return `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
  };
  return new Promise((resolve, reject) => {
    let open = connections;
    const sockets: Socket[] = [];
    const finish = () => {
      if (--open > 0) return;
      resolve({ sent, ok, failed: answered - ok, elapsedMs: stopAt - started });
    };
    for (let c = 0; c < connections; c++) {
      const socket = connect({ host, port });
      sockets.push(socket);
      let inFlight = 0;
      let tail = Buffer.alloc(0);
      const fill = () => {
        if (performance.now() - started >= durationMs) {
          if (stopAt === Number.POSITIVE_INFINITY) stopAt = performance.now();
          if (inFlight === 0) {
            socket.destroy();
            finish();
          }
          return;
        }
        let out = "";
        while (inFlight < depth) {
          out += make();
          inFlight++;
        }
        if (out !== "") socket.write(out);
      };
      socket.on("connect", fill);
      socket.on("data", (chunk: Buffer) => {
        const buf = tail.length > 0 ? Buffer.concat([tail, chunk]) : chunk;
        // count only status lines fully inside buf; keep the last few bytes for the next chunk
        const cut = Math.max(0, buf.length - (OK.length - 1));
        const n = count(buf, STATUS, cut);
        ok += count(buf, OK, cut);
        answered += n;
        inFlight -= n;
        tail = Buffer.from(buf.subarray(cut));
        fill();
      });
      socket.on("error", reject);
    }
  });
}
