/**
 * The load generator: a child process (forked by bench/run.ts, IPC channel) holding many raw-socket
 * SSE subscribers. Parsing is minimal: it finds `data: {"s":<seq>,"t":<ms>` in the stream, counts
 * events per subscriber, checks their order by the hub position ending the `id: <epoch>-<pos>` line
 * (nchan: `id: <time>:<tag>`)
 * just before it (a position at or below the previous one is a duplicate or a reorder), and adds publish->receive latency (`t` is the publisher's clock: performance.timeOrigin
 * + performance.now(), comparable between processes of one machine) to a 0.1 ms histogram.
 *
 * Messages in: connect, reset, report, progress, close. Messages out: the answers, and `progress`
 * (total events received) every 20 ms while progress is on.
 */
import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { BUCKETS } from "./stats.ts";

interface ConnectCommand {
  type: "connect";
  host: string;
  port: number;
  count: number;
  /** Index of the first subscriber in the whole run: spreads source addresses over 127.0.0.x. */
  first: number;
  perAddress: number;
  path: string;
  /** The comment that opens a stream (Herald `: ok`, nchan `: hi`). */
  opened: string;
}
type Command =
  | ConnectCommand
  | { type: "reset" }
  | { type: "report"; expected: number }
  | { type: "progress"; on: boolean }
  | { type: "close" };

const MARK = Buffer.from('data: {"s":');
const sockets: Socket[] = [];
let lastPos = new Float64Array(0);
let counts = new Uint32Array(0);
const carry: (Buffer | undefined)[] = [];
let hist = new Uint32Array(BUCKETS);
let received = 0;
let disorder = 0;
let closedCount = 0;
let progressTimer: NodeJS.Timeout | undefined;

function send(message: unknown): void {
  process.send?.(message);
}

const END = Buffer.from("\n\n");

/** Parses the complete events in `buf` (those ending before the last blank line). */
function parse(index: number, buf: Buffer, now: number): void {
  let at = buf.indexOf(MARK, 0);
  while (at !== -1) {
    // the id line ends just before: `id: <epoch>-<pos>\n` (Herald) or `id: <time>:<tag>\n` (nchan:
    // seconds, then a counter within the second)
    let pos = 0;
    let scale = 1;
    let j = at - 2;
    for (; j >= 0; j--) {
      const d = buf[j] as number;
      if (d < 48 || d > 57) break;
      pos += (d - 48) * scale;
      scale *= 10;
    }
    if (buf[j] === 58 /* : */) {
      let time = 0;
      scale = 1;
      for (j--; j >= 0; j--) {
        const d = buf[j] as number;
        if (d < 48 || d > 57) break;
        time += (d - 48) * scale;
        scale *= 10;
      }
      pos += time * 1e6; // under 2^53 until the year 2255
    }
    let i = at + MARK.length;
    let c = buf[i];
    while (c !== undefined && c >= 48 && c <= 57) c = buf[++i];
    // expect ,"t":
    i += 5;
    const start = i;
    while (i < buf.length && buf[i] !== 44 /* , */ && buf[i] !== 125 /* } */) i++;
    const t = Number(buf.toString("latin1", start, i));
    if (pos <= (lastPos[index] as number)) disorder++;
    lastPos[index] = pos;
    counts[index] = (counts[index] as number) + 1;
    received++;
    let bucket = Math.floor((now - t) * 10);
    if (bucket < 0) bucket = 0;
    if (bucket >= BUCKETS) bucket = BUCKETS - 1;
    hist[bucket] = (hist[bucket] as number) + 1;
    at = buf.indexOf(MARK, i);
  }
}

function open(command: ConnectCommand): Promise<{ ok: number; failed: number; error?: string }> {
  const base = sockets.length;
  const total = base + command.count;
  const grownPos = new Float64Array(total);
  grownPos.set(lastPos);
  lastPos = grownPos;
  const grownCounts = new Uint32Array(total);
  grownCounts.set(counts);
  counts = grownCounts;
  const request = Buffer.from(
    `GET ${command.path} HTTP/1.1\r\nHost: ${command.host}:${command.port}\r\nAccept: text/event-stream\r\n\r\n`,
  );
  let ok = 0;
  let failed = 0;
  let next = 0;
  let firstError: string | undefined;
  return new Promise((resolve) => {
    const CONCURRENCY = 256;
    let active = 0;
    const done = () => {
      active--;
      if (ok + failed === command.count) resolve({ ok, failed, error: firstError });
      else launch();
    };
    const launch = () => {
      while (active < CONCURRENCY && next < command.count) {
        const index = base + next;
        const g = command.first + next;
        next++;
        active++;
        const localAddress = `127.0.0.${2 + Math.floor(g / command.perAddress)}`;
        const socket = connect({ host: command.host, port: command.port, localAddress });
        sockets[index] = socket;
        let opened = false;
        socket.on("connect", () => socket.write(request));
        socket.on("data", (chunk: Buffer) => {
          const now = performance.timeOrigin + performance.now();
          let buf = chunk;
          const held = carry[index];
          if (held !== undefined) {
            buf = Buffer.concat([held, chunk]);
            carry[index] = undefined;
          }
          if (!opened) {
            if (buf.indexOf(command.opened) === -1) {
              carry[index] = Buffer.from(buf);
              return;
            }
            opened = true;
            ok++;
            done();
          }
          // events end with a blank line: parse up to the last one, keep the rest for the next chunk
          const end = buf.lastIndexOf(END);
          if (end === -1) {
            carry[index] = Buffer.from(buf);
            return;
          }
          parse(index, end + 2 === buf.length ? buf : buf.subarray(0, end + 2), now);
          if (end + 2 < buf.length) carry[index] = Buffer.from(buf.subarray(end + 2));
        });
        socket.on("error", (error) => {
          firstError ??= error.message;
          if (!opened) {
            opened = true;
            failed++;
            done();
          }
        });
        socket.on("close", () => {
          closedCount++;
          if (!opened) {
            // closed by the server before the stream opened (an error answer, a request timeout)
            opened = true;
            const held = carry[index];
            firstError ??= `closed before the stream opened${held === undefined ? "" : `: ${held.toString("latin1", 0, 80).split("\r\n")[0]}`}`;
            carry[index] = undefined;
            failed++;
            done();
          }
        });
      }
    };
    launch();
  });
}

process.on("message", (command: Command) => {
  switch (command.type) {
    case "connect":
      void open(command).then((result) => send({ type: "connected", ...result }));
      break;
    case "reset":
      counts.fill(0);
      hist = new Uint32Array(BUCKETS);
      received = 0;
      disorder = 0;
      send({ type: "reset" });
      break;
    case "report": {
      let lost = 0;
      let extra = 0;
      for (let i = 0; i < counts.length; i++) {
        const n = counts[i] as number;
        if (n < command.expected) lost += command.expected - n;
        else if (n > command.expected) extra += n - command.expected;
      }
      const cpu = process.cpuUsage();
      send({
        type: "report",
        received,
        lost,
        extra,
        disorder,
        closed: closedCount,
        hist: Array.from(hist),
        cpuMs: (cpu.user + cpu.system) / 1000,
      });
      break;
    }
    case "progress":
      if (progressTimer !== undefined) clearInterval(progressTimer);
      progressTimer = command.on ? setInterval(() => send({ type: "progress", received }), 20) : undefined;
      break;
    case "close":
      for (const socket of sockets) socket?.destroy();
      send({ type: "closed" });
      setTimeout(() => process.exit(0), 50);
      break;
  }
});
send({ type: "ready" });
