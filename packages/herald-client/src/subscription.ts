import { Backoff } from "./backoff.ts";
import { chooseTransport } from "./choose-transport.ts";
import { LiveTopics } from "./live-topics.ts";
import { MatchedTopics } from "./matched.ts";
import { parseJsonOrText, safeJson } from "./parse.ts";
import { MessageQueue } from "./queue.ts";
import { canShare, joinShared, type SharedJoin } from "./share/join.ts";
import {
  fromWire,
  type HostMessage,
  isFor,
  type SharedStreamOptions,
  stateFromWire,
} from "./share/messages.ts";
import { RecentIds } from "./share/recent-ids.ts";
import { STREAM_EVENT_TYPE, topicList } from "./topics.ts";
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
  type ShareInfo,
  type ShareOptions,
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
 *
 * `add(topics)` / `remove(topics)` change the topics of the open stream (docs/client.md); with
 * `share`, tabs of one origin share one stream (share/join.ts).
 */
export class Subscription<T = unknown> implements AsyncIterable<HeraldMessage<T>> {
  private currentState: ConnectionState = "connecting";
  private lastId: string | undefined;
  private readonly controller = new AbortController();
  private readonly backoff: Backoff;
  private transport: Transport | undefined;
  private readonly url: URL;
  /** The topics asked for (what every connection asks), and add/remove. */
  private readonly live: LiveTopics;
  /** Aborts the current connection only (a topic change on a hub without live changes). */
  private connection: AbortController | undefined;
  /** The current connection is being left for a new one at once: its events are dropped (`receive`). */
  private reconnectNow = false;
  /** The token the current connection was opened with: the one its stream holds, sent for its changes. */
  private connectionToken: string | undefined;
  private shared: SharedJoin | undefined;
  private sharedTabs = 0;
  /** The ids of the shared stream this tab saw (any tab's), to drop a new leader's repeats. */
  private recent: RecentIds | undefined;
  /** The last id of the shared stream this tab saw, of any tab's topics: where it resumes if it becomes leader. */
  private streamAt: string | undefined;
  private readonly parse: (text: string) => T;
  private readonly queue: MessageQueue<HeraldMessage<T>>;
  private iterating = false;
  /** Whether events are queued for the iterator: from the start without `onEvent`, else once iterated. */
  private buffering: boolean;
  private finish!: (error: Error | undefined) => void;
  /** What the stream says each event matched, when `onMatched` asked it to (`matched=1`). */
  private readonly matched: MatchedTopics | undefined;
  /** Resolves once the subscription is closed, with the fatal error if one closed it. */
  readonly closed: Promise<Error | undefined>;

  /**
   * `onMatched` is for the stream tabs share (share/host.ts), with the fetch transport: the hub is
   * asked to tag each event with the topics it matched (`matched=1`), and `onMatched` is called
   * with them right before each event's `onEvent` or `onMissed` (undefined: the hub's own event,
   * about the whole stream).
   */
  constructor(
    private readonly options: SubscribeOptions<T>,
    private readonly onMatched?: (topics: readonly string[] | undefined) => void,
  ) {
    this.matched = onMatched === undefined ? undefined : new MatchedTopics();
    this.live = new LiveTopics(
      topicList(options.topics, 'subscribe: "topics"'),
      {
        url: options.url,
        withCredentials: options.withCredentials ?? false,
        fetch: (input, init) => (options.fetch ?? globalThis.fetch).call(globalThis, input, init),
      },
      {
        state: () => this.currentState,
        reconnectNow: () => {
          this.reconnectNow = true;
          this.connection?.abort();
        },
      },
    );
    const share = options.share ? shareOptionsOf(options.share) : undefined;
    const sharing = share !== undefined && canShare(share); // elsewhere `share` is ignored
    if (sharing && typeof options.token === "function") {
      throw new TypeError("subscribe: share needs a string token (tabs share by token); resolve it first");
    }
    this.url = routeUrl(options.url, "events");
    this.lastId = options.lastEventId;
    this.parse = options.parse ?? parseJsonOrText<T>;
    this.queue = new MessageQueue(options.bufferSize ?? 1000);
    this.buffering = options.onEvent === undefined;
    this.backoff = new Backoff(options.initialDelayMs ?? 1000, options.maxDelayMs ?? 30_000);
    this.transport = sharing ? undefined : chooseTransport(options);
    this.closed = new Promise((resolve) => {
      this.finish = resolve;
    });
    if (options.signal?.aborted) {
      this.close();
      return;
    }
    options.signal?.addEventListener("abort", () => this.close(), { once: true });
    if (share !== undefined && sharing) this.shared = this.joinShared(share);
    if (this.shared === undefined) {
      this.transport ??= chooseTransport(options);
      void this.run();
    }
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** The id of the last event received: where the next reconnect resumes. */
  get lastEventId(): string | undefined {
    return this.lastId;
  }

  /** The topics of the stream (after the last change), or those the next connection asks for. */
  get currentTopics(): readonly string[] {
    return this.live.topics;
  }

  /** The open stream's id, when the hub told it (`herald.stream`); undefined between connections. */
  get streamId(): string | undefined {
    return this.live.streamId;
  }

  /** How this subscription shares its stream with other tabs; undefined when it has its own. */
  get share(): ShareInfo | undefined {
    return this.shared === undefined ? undefined : { mode: this.shared.mode(), tabs: this.sharedTabs };
  }

  /**
   * Adds topics to the open stream, without reconnecting (`POST /streams/{id}/topics`): resolves with
   * the stream's topics once the hub applied the change. On a hub that does not announce its stream
   * id, the SDK reconnects with the new topics, resuming after the last id. While reconnecting, the
   * change is kept for the next connection (one already on its way is left for a new one resuming
   * after the same id when it lacks them: live-topics.ts). Rejects with Herald's error (400 bad
   * topic, 403 not allowed), the topics unchanged. Not available on a shared subscription.
   */
  add(topics: string | readonly string[]): Promise<readonly string[]> {
    return this.changeTopics(() => [topicList(topics, "add"), []]);
  }

  /** Removes topics from the stream, as `add` adds them. At least one topic must remain (else `close()`). */
  remove(topics: string | readonly string[]): Promise<readonly string[]> {
    return this.changeTopics(() => [[], topicList(topics, "remove")]);
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
      onComment: this.matched && ((text) => this.matched?.comment(text)),
      room: () => (this.buffering ? this.queue.room() : Promise.resolve()),
    };
    this.call(this.options.onStateChange, { state: "connecting" });
    const transport = this.transport as Transport;
    while (!this.controller.signal.aborted) {
      let end: ConnectionEnd;
      const connection = new AbortController();
      const abort = () => connection.abort();
      this.controller.signal.addEventListener("abort", abort);
      this.connection = connection;
      this.reconnectNow = false; // this connection asks for the topics as they are now
      this.live.forgetStream();
      this.matched?.reset();
      try {
        const token = await resolveToken(this.options.token);
        this.connectionToken = token;
        const url = new URL(this.url);
        for (const topic of this.live.request()) url.searchParams.append("topic", topic);
        url.searchParams.set("announce", "1"); // the stream's id, for add/remove (ignored by older hubs)
        if (this.matched !== undefined) url.searchParams.set("matched", "1");
        end = await transport(
          {
            url,
            lastEventId: this.lastId,
            token,
            headers: this.options.headers ?? {},
            withCredentials: this.options.withCredentials ?? false,
            idleTimeoutMs: this.options.idleTimeoutMs ?? 45_000,
            signal: connection.signal,
          },
          handlers,
        );
      } catch (error) {
        // a token function that throws, or a bug in a callback: end for good with that error
        end = { fatal: true, error: error instanceof Error ? error : new Error(String(error)) };
      } finally {
        this.controller.signal.removeEventListener("abort", abort);
        this.live.forgetStream();
      }
      if (this.controller.signal.aborted) return;
      if (this.reconnectNow) {
        this.reconnectNow = false; // a topic change: connect again at once, resuming after lastId
        continue;
      }
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
    // a connection being left for a new one: the next resumes after `lastId`, and replays these
    if (this.reconnectNow) return;
    if (type === STREAM_EVENT_TYPE) {
      this.live.opened(text, this.connectionToken, this.lastId !== undefined);
      this.matched?.opened(text);
      return;
    }
    this.live.unannounced();
    if (this.reconnectNow) return;
    if (this.matched !== undefined) this.onMatched?.(this.matched.take());
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

  private changeTopics(lists: () => [string[], string[]]): Promise<readonly string[]> {
    if (this.shared !== undefined) {
      return Promise.reject(
        new TypeError("add/remove: a shared subscription cannot change topics; subscribe again instead"),
      );
    }
    return this.live.change(lists);
  }

  /** share: join the tabs' stream (undefined when this browser cannot share: then a stream of its own). */
  private joinShared(share: ShareOptions): SharedJoin | undefined {
    const options: SharedStreamOptions = {
      url: routeUrl(this.options.url, "").href,
      topics: this.live.topics,
      token: this.options.token as string | undefined,
      headers: this.options.headers,
      withCredentials: this.options.withCredentials ?? false,
      lastEventId: this.lastId,
      initialDelayMs: this.options.initialDelayMs,
      maxDelayMs: this.options.maxDelayMs,
      idleTimeoutMs: this.options.idleTimeoutMs,
    };
    this.recent = new RecentIds();
    const own = this.live.topics;
    const deliver = (message: HostMessage) => {
      if (message.t === "event") {
        // every event of the stream counts for the handover, also those of other tabs' topics
        if (message.id !== undefined) {
          if (this.recent?.repeated(message.id)) return;
          this.streamAt = message.id;
        }
        if (isFor(own, message)) this.receive(message.id, message.type, message.data);
      } else if (message.t === "state") this.setState(stateFromWire(message));
      else if (message.t === "fatal") {
        if (message.member === undefined || message.member === this.shared?.member)
          this.end(fromWire(message.error));
      } else if (message.t === "at") {
        this.recent?.resumedAfter(message.id);
        this.lastId ??= message.id;
        this.streamAt ??= message.id;
      } else if (message.t === "tabs") {
        this.sharedTabs = message.count;
        if (this.shared !== undefined)
          this.call(this.options.onShare, { mode: this.shared.mode(), tabs: message.count });
      }
    };
    const joined = joinShared(
      options,
      share,
      deliver,
      (o, onMatched) => new Subscription(o, onMatched),
      () => this.streamAt ?? this.lastId,
    );
    if (joined === undefined) return undefined;
    this.call(this.options.onStateChange, { state: "connecting" });
    this.controller.signal.addEventListener("abort", () => joined.leave(), { once: true });
    return joined;
  }
}

function shareOptionsOf(share: boolean | ShareOptions): ShareOptions {
  return typeof share === "object" ? share : {};
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
