import { Backoff } from "./backoff.ts";
import { chooseTransport } from "./choose-transport.ts";
import { parseJsonOrText, safeJson } from "./parse.ts";
import { MessageQueue } from "./queue.ts";
import {
  type ConnectionEnd,
  HeraldClientError,
  type Transport,
  type TransportHandlers,
} from "./transport.ts";
import {
  type ConnectionState,
  type HeraldMessage,
  MISSED_EVENT_TYPE,
  type MissedInfo,
  type StateChange,
  type SubscribeOptions,
} from "./types.ts";
import { routeUrl } from "./url.ts";

/**
 * A live subscription to Herald topics. It connects at once and keeps reconnecting (backoff with
 * jitter, the server's `retry:` as base) until `close()`, the `signal` aborts, or the server answers
 * with an error retrying cannot fix (4xx). Every reconnect resumes after the last id received, so
 * the hub replays what was published meanwhile: no gap, no duplicate. When the hub cannot resume it
 * sends herald.missed, reported to `onMissed`.
 *
 * Read events with callbacks (`onEvent`), or as an async iterator (one consumer):
 * `for await (const message of subscribe<Price>({...})) ...`; leaving the loop closes the subscription;
 * a fatal error is thrown from the loop. Without `onEvent`, events are held for the iterator from the
 * start (up to `bufferSize`, then the fetch transport stops reading); with `onEvent`, the iterator
 * gets the events that arrive after it was started.
 */
export class Subscription<T = unknown> implements AsyncIterable<HeraldMessage<T>> {
  private currentState: ConnectionState = "connecting";
  private lastId: string | undefined;
  private readonly controller = new AbortController();
  private readonly backoff: Backoff;
  private readonly transport: Transport;
  private readonly url: URL;
  private readonly parse: (text: string) => T;
  private readonly queue: MessageQueue<HeraldMessage<T>>;
  private iterating = false;
  /** Whether events are queued for the iterator: from the start without `onEvent`, else once iterated. */
  private buffering: boolean;
  private finish!: (error: Error | undefined) => void;
  /** Resolves once the subscription is closed, with the fatal error if one closed it. */
  readonly closed: Promise<Error | undefined>;

  constructor(private readonly options: SubscribeOptions<T>) {
    const topics = typeof options.topics === "string" ? [options.topics] : [...options.topics];
    if (topics.length === 0 || topics.some((t) => t === "")) {
      throw new TypeError('subscribe: "topics" needs at least one non-empty topic, e.g. ["news"]');
    }
    this.url = routeUrl(options.url, "events");
    for (const topic of topics) this.url.searchParams.append("topic", topic);
    this.lastId = options.lastEventId;
    this.parse = options.parse ?? parseJsonOrText<T>;
    this.queue = new MessageQueue(options.bufferSize ?? 1000);
    this.buffering = options.onEvent === undefined;
    this.backoff = new Backoff(options.initialDelayMs ?? 1000, options.maxDelayMs ?? 30_000);
    this.transport = chooseTransport(options);
    this.closed = new Promise((resolve) => {
      this.finish = resolve;
    });
    if (options.signal?.aborted) {
      this.close();
      return;
    }
    options.signal?.addEventListener("abort", () => this.close(), { once: true });
    void this.run();
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** The id of the last event received: where the next reconnect resumes. */
  get lastEventId(): string | undefined {
    return this.lastId;
  }

  /** Closes the stream and stops reconnecting. Idempotent. */
  close(): void {
    this.end(undefined);
  }

  [Symbol.asyncIterator](): AsyncIterator<HeraldMessage<T>> {
    if (this.iterating)
      throw new Error("a Subscription can be iterated only once; use onEvent for more listeners");
    this.iterating = true;
    this.buffering = true;
    return {
      next: () => this.queue.next(),
      return: async () => {
        this.close();
        return { value: undefined, done: true };
      },
    };
  }

  private async run(): Promise<void> {
    const handlers: TransportHandlers = {
      onOpen: (standsAt) => {
        if (this.lastId === undefined && standsAt !== undefined && standsAt !== "") this.lastId = standsAt;
        this.backoff.reset();
        this.setState({ state: "open" });
      },
      onEvent: (event) => this.receive(event.id, event.event ?? "message", event.data),
      onRetry: (ms) => this.backoff.setBase(ms),
      room: () => (this.buffering ? this.queue.room() : Promise.resolve()),
    };
    this.call(this.options.onStateChange, { state: "connecting" });
    while (!this.controller.signal.aborted) {
      let end: ConnectionEnd;
      try {
        const token = await resolveToken(this.options.token);
        end = await this.transport(
          {
            url: this.url,
            lastEventId: this.lastId,
            token,
            headers: this.options.headers ?? {},
            withCredentials: this.options.withCredentials ?? false,
            idleTimeoutMs: this.options.idleTimeoutMs ?? 45_000,
            signal: this.controller.signal,
          },
          handlers,
        );
      } catch (error) {
        // a token function that throws, or a bug in a callback: end for good with that error
        end = { fatal: true, error: error instanceof Error ? error : new Error(String(error)) };
      }
      if (this.controller.signal.aborted) return;
      if (end.fatal) {
        this.end(end.error ?? new HeraldClientError("the subscription failed"));
        return;
      }
      const delayMs = end.retryAfterMs ?? this.backoff.next();
      this.setState({ state: "reconnecting", error: end.error, delayMs, attempt: this.backoff.attempt });
      await sleep(delayMs, this.controller.signal);
    }
  }

  private receive(id: string | undefined, type: string, text: string): void {
    if (this.currentState === "closed") return;
    if (type === MISSED_EVENT_TYPE) {
      const body = safeJson(text) as { lastEventId?: unknown; reason?: unknown } | undefined;
      const info: MissedInfo = {
        lastEventId: typeof body?.lastEventId === "string" ? body.lastEventId : (this.lastId ?? ""),
        reason: typeof body?.reason === "string" ? body.reason : "unknown",
        resumeId: id ?? "",
      };
      if (id !== undefined) this.lastId = id;
      this.call(this.options.onMissed, info);
      return;
    }
    if (id !== undefined) this.lastId = id;
    let data: T;
    try {
      data = this.parse(text);
    } catch (error) {
      this.rethrow(error); // a `parse` that refuses the event: it is skipped, the stream goes on
      return;
    }
    const message: HeraldMessage<T> = { id: id ?? "", type, data, text };
    this.call(this.options.onEvent, message);
    if (this.buffering) this.queue.push(message);
  }

  /**
   * Calls an application callback. An exception it throws does not break the stream: it is
   * rethrown on its own task (reported like an uncaught error in an EventSource listener).
   */
  private call<A>(callback: ((arg: A) => void) | undefined, arg: A): void {
    if (callback === undefined) return;
    try {
      callback(arg);
    } catch (error) {
      this.rethrow(error);
    }
  }

  private rethrow(error: unknown): void {
    setTimeout(() => {
      throw error;
    });
  }

  private setState(change: StateChange): void {
    if (this.currentState === "closed") return;
    if (change.state === this.currentState && change.state === "open") return;
    this.currentState = change.state;
    this.call(this.options.onStateChange, change);
  }

  private end(error: Error | undefined): void {
    if (this.currentState === "closed") return;
    this.controller.abort();
    this.setState({ state: "closed", error });
    this.currentState = "closed";
    if (error !== undefined) this.call(this.options.onError, error);
    this.queue.close(error);
    this.finish(error);
  }
}

async function resolveToken(token: SubscribeOptions["token"]): Promise<string | undefined> {
  return typeof token === "function" ? await token() : token;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}
