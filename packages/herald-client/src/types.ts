/**
 * Public types of the Herald client SDK. The SDK has no Node import: it runs in browsers, Node 20+,
 * Deno and Bun (anything with fetch, TextDecoder and AbortController).
 */

/** The hub's "events may have been missed" event type (the server's MISSED_EVENT_TYPE). */
export const MISSED_EVENT_TYPE = "herald.missed";

/** One event as the application sees it. */
export interface HeraldMessage<T = unknown> {
  /** The event's id (what a reconnect resumes after). */
  readonly id: string;
  /** The SSE event type; `message` when the publisher gave none. */
  readonly type: string;
  /** `data` parsed as JSON, or the text itself when it is not JSON (or as `parse` returns). Not validated: T is a promise the publisher must keep. */
  readonly data: T;
  /** `data` exactly as received (line breaks as LF). */
  readonly text: string;
}

/** Why the hub could not resume: "unknown-id", "too-old", "epoch-changed" (docs/concepts.md). */
export interface MissedInfo {
  /** The id the client asked to resume after. */
  readonly lastEventId: string;
  readonly reason: string;
  /** Where the stream continues from (the hub's head when it answered). */
  readonly resumeId: string;
}

/**
 * Connection states, in order of a normal life: connecting -> open -> (reconnecting -> open)* -> closed.
 * `reconnecting` covers both the wait before a new attempt and the attempt itself.
 */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

export interface StateChange {
  readonly state: ConnectionState;
  /** What ended the previous connection (for `reconnecting` and `closed`). */
  readonly error?: Error | undefined;
  /** For `reconnecting`: how long the SDK waits before the next attempt, in ms. */
  readonly delayMs?: number | undefined;
  /** For `reconnecting`: attempts made since the last open connection (1 for the first retry). */
  readonly attempt?: number | undefined;
}

/** A token, or a function returning a fresh one for each (re)connection. */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

export interface SubscribeOptions<T = unknown> {
  /** Herald's base URL, e.g. "https://hub.example.com" or "https://example.com/hub/"; in a browser it may be relative ("/"). The SDK adds `events`. */
  readonly url: string | URL;
  /** Topics or selectors (`news`, `prices/*`, `*`); at least one. */
  readonly topics: string | readonly string[];
  /**
   * Bearer token, sent as `Authorization: Bearer <token>` (forces the fetch transport). A function is
   * called before every connection; `add`/`remove` send the token their connection was opened with
   * (the one its stream holds), without calling it again.
   */
  readonly token?: TokenSource | undefined;
  /** Resume after this id at the first connection (default: live only). Later reconnects resume after the last id received. */
  readonly lastEventId?: string | undefined;
  /** Aborting it closes the subscription (like `close()`). */
  readonly signal?: AbortSignal | undefined;
  /** Called for every event, in order (herald.missed is not an event: see `onMissed`). */
  readonly onEvent?: ((message: HeraldMessage<T>) => void) | undefined;
  /** Called when the hub says events may have been missed; the stream goes on from `info.resumeId`. */
  readonly onMissed?: ((info: MissedInfo) => void) | undefined;
  /** Called on every connection state change. */
  readonly onStateChange?: ((change: StateChange) => void) | undefined;
  /** Called once with the error that closed the subscription for good (a 4xx answer such as 400, 401, 403). */
  readonly onError?: ((error: Error) => void) | undefined;
  /** Turns `data` text into T. Default: JSON.parse, falling back to the text. */
  readonly parse?: ((text: string) => T) | undefined;
  /** "auto" (default): the browser's EventSource when there is one and no token/headers are needed, else fetch. */
  readonly transport?: "auto" | "fetch" | "eventsource" | undefined;
  /** Event types the EventSource transport listens for, besides `message` and herald.missed (the fetch transport gets every type). Default []. */
  readonly eventTypes?: readonly string[] | undefined;
  /** Send cookies cross-origin (EventSource `withCredentials`, fetch `credentials: "include"`). Default false. */
  readonly withCredentials?: boolean | undefined;
  /** Extra request headers (fetch transport only). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** First reconnect delay in ms when the server sent no `retry:` (the server's `retry:` wins); both count as at least 100. Default 1000. */
  readonly initialDelayMs?: number | undefined;
  /** Longest reconnect delay in ms (at least 100). Default 30000. */
  readonly maxDelayMs?: number | undefined;
  /** Reconnect when nothing (not even a heartbeat comment) arrived for this long, in ms; 0 = never. Fetch transport only. Default 45000 (3 heartbeats). */
  readonly idleTimeoutMs?: number | undefined;
  /** Events held for the async iterator before the fetch transport stops reading (the hub then cuts this client off and it resumes later). Default 1000. */
  readonly bufferSize?: number | undefined;
  /** The fetch to use (default: globalThis.fetch). */
  readonly fetch?: typeof fetch | undefined;
  /** The EventSource class to use (default: globalThis.EventSource). */
  readonly EventSource?: EventSourceLike | undefined;
  /**
   * Share one stream with the other tabs of this origin that subscribe to the same hub with the
   * same token, whatever their topics: the stream has the union of them, and each tab gets exactly
   * the events of its own (browsers only; docs/client.md). `true` or `{worker}`. Default false.
   * Needs a string token (not a function); `transport`, `eventTypes`, `fetch`, `EventSource` and
   * `bufferSize` backpressure do not apply to a shared stream (it reads every event type with fetch).
   */
  readonly share?: boolean | ShareOptions | undefined;
  /** Called when the number of tabs sharing this subscription's stream changes (shared subscriptions only). */
  readonly onShare?: ((info: ShareInfo) => void) | undefined;
}

export interface ShareOptions {
  /**
   * The SharedWorker script: default the package's `shared-worker.js` (bundlers ship it); in a page
   * served by Herald, `"/herald-client.js"` (that bundle is also the worker). `false`: no
   * SharedWorker, share through a BroadcastChannel with a leader tab.
   */
  readonly worker?: string | URL | false | undefined;
}

/** How a shared subscription shares its stream. */
export interface ShareInfo {
  /** "worker": a SharedWorker runs the stream; "channel": the leader tab does, over a BroadcastChannel. */
  readonly mode: "worker" | "channel";
  /** Subscriptions (one per tab, usually) on the stream, this one included. */
  readonly tabs: number;
}

/** What the SDK needs of an EventSource class (the browser's, or the `eventsource` npm package's). */
export type EventSourceLike = new (
  url: string,
  init?: { withCredentials?: boolean },
) => {
  readonly readyState: number;
  onopen: ((this: never, ev: Event) => unknown) | null;
  onerror: ((this: never, ev: Event) => unknown) | null;
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
};
