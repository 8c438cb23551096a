import { type ClientRequest, type IncomingMessage, request } from "node:http";
import { EventSource } from "eventsource";
import type { History, SubscriberLog } from "./checker.ts";
import type { FaultNode } from "./nodes.ts";

/**
 * The subscribers of a fault run, two kinds of client recording into the checker's `SubscriberLog`:
 * - `EsSubscriber`: the `eventsource` npm package (4.1), reconnecting by itself with `Last-Event-ID`;
 * - `RawSubscriber`: node:http with its own SSE parser, which can stop reading (a slow reader).
 * Both act as behind a load balancer: a (re)connection goes to the preferred node when it serves,
 * else to the next serving one. Both resume from the `Last-Event-ID` response header while they
 * have received no event yet (Herald's "where you stand"), as the client SDK does.
 */
export interface Subscriber {
  readonly log: SubscriberLog;
  /** The node it connects to while that node serves. */
  readonly preferred: number;
  /** True while a stream is open. */
  readonly open: boolean;
  /** Drops its stream and connects again (to its preferred node), resuming with `Last-Event-ID`. */
  reconnect(): void;
  close(): void;
}

const EVENT_TYPES = ["message", "tick"];
export const MISSED = "herald.missed";
/** The opening event of a `GET /events` stream (its id and topics): not a delivery, and it carries no id. */
export const OPENING = "herald.stream";

/** The node a (re)connection goes to: the preferred one if it serves, else the next that does. */
export function route(nodes: readonly FaultNode[], preferred: number): FaultNode {
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[(preferred + i) % nodes.length]!;
    if (node.serving) return node;
  }
  return nodes[preferred % nodes.length]!;
}

function streamPath(log: SubscriberLog): string {
  return `/events?${log.selectors.map((s) => `topic=${encodeURIComponent(s)}`).join("&")}`;
}

/** Records one dispatched SSE event; the key is the data up to the first `|` (publishers.ts). */
function record(history: History, log: SubscriberLog, type: string, id: string, data: string): void {
  if (type === MISSED) history.missedSignal(log, id, data);
  else {
    const bar = data.indexOf("|");
    history.delivered(log, id, bar < 0 ? data : data.slice(0, bar));
  }
}

function opened(log: SubscriberLog): void {
  log.opens++;
  log.openedAt ??= performance.now();
}

export class EsSubscriber implements Subscriber {
  private source: EventSource | undefined;
  private lastId: string | undefined;
  private closed = false;

  constructor(
    private readonly history: History,
    readonly log: SubscriberLog,
    private readonly nodes: readonly FaultNode[],
    readonly preferred: number,
    private readonly token: string | undefined,
  ) {
    this.connect();
  }

  get open(): boolean {
    return this.source?.readyState === EventSource.OPEN;
  }

  reconnect(): void {
    if (this.closed) return;
    this.source?.close();
    this.connect(); // a new EventSource: its fetch sends this.lastId as Last-Event-ID
  }

  private connect(): void {
    const source = new EventSource(`http://herald${streamPath(this.log)}`, {
      fetch: async (input, init) => {
        const url = new URL(String(input));
        const headers: Record<string, string> = { ...(init?.headers as Record<string, string>) };
        if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
        if (headers["Last-Event-ID"] === undefined && this.lastId !== undefined)
          headers["Last-Event-ID"] = this.lastId;
        const response = await fetch(`${route(this.nodes, this.preferred).url}${url.pathname}${url.search}`, {
          ...init,
          headers,
        });
        const standsAt = response.headers.get("last-event-id");
        if (response.ok && standsAt !== null && this.lastId === undefined) this.lastId = standsAt;
        return response;
      },
    });
    this.source = source;
    source.addEventListener("open", () => opened(this.log));
    for (const type of [...EVENT_TYPES, MISSED]) {
      source.addEventListener(type, (event) => {
        this.lastId = event.lastEventId;
        record(this.history, this.log, type, event.lastEventId, event.data);
      });
    }
    source.addEventListener("error", () => {
      // a non-200 answer (a node starting or stopping) ends an EventSource for good: start another
      if (source.readyState !== EventSource.CLOSED || this.closed) return;
      setTimeout(() => {
        if (!this.closed) this.connect();
      }, 200);
    });
  }

  close(): void {
    this.closed = true;
    this.source?.close();
  }
}

/** A minimal SSE parser (WHATWG): fields `id`, `event`, `data`; comments and `retry` ignored. */
class SseParser {
  private buffer = "";
  private id = "";
  private type = "";
  private data: string[] = [];

  constructor(private readonly dispatch: (type: string, id: string, data: string) => void) {}

  feed(chunk: string): void {
    this.buffer += chunk;
    let start = 0;
    for (;;) {
      const nl = this.buffer.indexOf("\n", start);
      if (nl < 0) break;
      let line = this.buffer.slice(start, nl);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      start = nl + 1;
      this.line(line);
    }
    this.buffer = this.buffer.slice(start);
  }

  /** A new connection: anything half-received is dropped. */
  reset(): void {
    this.buffer = "";
    this.type = "";
    this.data = [];
  }

  private line(line: string): void {
    if (line === "") {
      if (this.data.length > 0) this.dispatch(this.type || "message", this.id, this.data.join("\n"));
      this.type = "";
      this.data = [];
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "id" && !value.includes("\0")) this.id = value;
    else if (field === "event") this.type = value;
    else if (field === "data") this.data.push(value);
  }
}

export class RawSubscriber implements Subscriber {
  private req: ClientRequest | undefined;
  private res: IncomingMessage | undefined;
  private lastId: string | undefined;
  private closed = false;
  private paused = false;
  open = false;
  private readonly parser = new SseParser((type, id, data) => {
    if (type === OPENING) return;
    this.lastId = id;
    record(this.history, this.log, type, id, data);
  });

  constructor(
    private readonly history: History,
    readonly log: SubscriberLog,
    private readonly nodes: readonly FaultNode[],
    readonly preferred: number,
    private readonly token: string | undefined,
  ) {
    this.connect();
  }

  reconnect(): void {
    this.req?.destroy(); // its close event connects again
  }

  private connect(): void {
    if (this.closed) return;
    this.parser.reset();
    const headers: Record<string, string> = { accept: "text/event-stream" };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    if (this.lastId !== undefined) headers["last-event-id"] = this.lastId;
    let again = false;
    const reconnect = () => {
      this.open = false;
      if (again) return;
      again = true;
      setTimeout(() => this.connect(), 200);
    };
    const req = request(
      `${route(this.nodes, this.preferred).url}${streamPath(this.log)}`,
      { headers },
      (res) => {
        this.res = res;
        if (res.statusCode !== 200) {
          res.resume();
          res.on("end", reconnect);
          res.on("error", reconnect);
          return;
        }
        const standsAt = res.headers["last-event-id"];
        if (typeof standsAt === "string" && this.lastId === undefined) this.lastId = standsAt;
        this.open = true;
        opened(this.log);
        if (this.paused) res.pause();
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => this.parser.feed(chunk));
        res.on("end", reconnect);
        res.on("error", reconnect);
        res.on("close", reconnect);
      },
    );
    req.on("error", reconnect);
    req.end();
    this.req = req;
  }

  /** Stops reading (a slow reader): the server's buffer for it fills, and it may cut it off. */
  pause(): void {
    this.paused = true;
    this.res?.pause();
  }

  /** Reads again; if the server cut it off meanwhile, the stream ends and it reconnects with its id. */
  resume(): void {
    this.paused = false;
    this.res?.resume();
  }

  close(): void {
    this.closed = true;
    this.req?.destroy();
  }
}
