import { HeraldClientError } from "../transport.ts";
import type { StateChange } from "../types.ts";

/**
 * What tabs and the stream's host say to each other (SharedWorker ports or a BroadcastChannel).
 * Everything is structured-clone data: no functions, errors as `WireError`.
 */

/** What a shared stream needs to connect: the part of SubscribeOptions that can cross to a worker. */
export interface SharedStreamOptions {
  /** Herald's base URL, absolute. */
  readonly url: string;
  readonly topics: readonly string[];
  readonly token: string | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;
  readonly withCredentials: boolean;
  /** Where the stream resumes when it starts (the last id the tab that starts it saw). */
  readonly lastEventId: string | undefined;
  readonly initialDelayMs: number | undefined;
  readonly maxDelayMs: number | undefined;
  readonly idleTimeoutMs: number | undefined;
}

export interface WireError {
  readonly message: string;
  readonly status: number;
  readonly code: string | undefined;
}

/** From the host of a shared stream to its tabs. */
export type HostMessage =
  | {
      readonly t: "event";
      readonly id: string | undefined;
      readonly type: string;
      readonly data: string;
      /** The stream's topics that matched it (the hub's `: matched` line); undefined: the hub's own, for every tab. */
      readonly matched: readonly string[] | undefined;
    }
  | {
      readonly t: "state";
      readonly state: "open" | "reconnecting";
      readonly error?: WireError | undefined;
      readonly delayMs?: number | undefined;
      readonly attempt?: number | undefined;
    }
  /** The stream ended for good; with `member`, only that member's subscription ends (a topic of its was refused). */
  | { readonly t: "fatal"; readonly error: WireError; readonly member?: string | undefined }
  | { readonly t: "tabs"; readonly count: number }
  /** The stream's topics now (to every tab: a tab that starts the stream again starts with them). */
  | { readonly t: "topics"; readonly topics: readonly string[] }
  /** From a SharedWorker to each tab it serves: the Web Lock it holds while it lives (the tab gets it when the worker died). */
  | { readonly t: "worker"; readonly lock: string }
  /** Where the stream stands (its first resume point), for a tab that has seen no event yet. */
  | { readonly t: "at"; readonly id: string };

/** From a tab to the host. `lock`: a Web Lock the tab holds while it lives (the host learns it left when it gets it). */
export type TabMessage =
  | {
      readonly t: "join";
      readonly key: string;
      readonly member: string;
      readonly lock: string;
      readonly options: SharedStreamOptions;
      /**
       * The topics of the stream the tab was on, when it joins again after its worker died: a host
       * it starts asks for them too (no gap for the other tabs), until a member leaves.
       */
      readonly streamTopics?: readonly string[] | undefined;
    }
  | { readonly t: "leave"; readonly member: string }
  /** A new leader asks every tab of the channel to join again. */
  | { readonly t: "who" };

export type Deliver = (message: HostMessage) => void;

/**
 * Tabs share a stream when they ask the same hub the same way: same hub, same token, same headers
 * and credentials mode, whatever their topics (the stream has the union of them, and each tab gets
 * the events of its own: `isFor`). Tabs with different tokens never share.
 */
export function shareKey(options: SharedStreamOptions): string {
  const headers = Object.entries(options.headers ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify([options.url, options.token ?? null, headers, options.withCredentials]);
}

/**
 * Whether a tab subscribed to `topics` gets `message`: an event one of its topics matched (as the
 * hub said: `matched`, the topics as the tabs named them), the hub's own events, and everything
 * that is not an event (state, tab count).
 */
export function isFor(topics: readonly string[], message: HostMessage): boolean {
  if (message.t !== "event" || message.matched === undefined) return true;
  return message.matched.some((topic) => topics.includes(topic));
}

export function toWire(error: Error | undefined): WireError {
  const e = error as (Error & { status?: unknown; code?: unknown }) | undefined;
  return {
    message: e?.message ?? "the shared stream failed",
    status: typeof e?.status === "number" ? e.status : 0,
    code: typeof e?.code === "string" ? e.code : undefined,
  };
}

export function fromWire(error: WireError | undefined): HeraldClientError | undefined {
  return error === undefined ? undefined : new HeraldClientError(error.message, error.status, error.code);
}

export function stateFromWire(message: Extract<HostMessage, { t: "state" }>): StateChange {
  return {
    state: message.state,
    error: fromWire(message.error),
    delayMs: message.delayMs,
    attempt: message.attempt,
  };
}
