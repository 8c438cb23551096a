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
  | { readonly t: "event"; readonly id: string | undefined; readonly type: string; readonly data: string }
  | {
      readonly t: "state";
      readonly state: "open" | "reconnecting";
      readonly error?: WireError | undefined;
      readonly delayMs?: number | undefined;
      readonly attempt?: number | undefined;
    }
  | { readonly t: "fatal"; readonly error: WireError }
  | { readonly t: "tabs"; readonly count: number }
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
    }
  | { readonly t: "leave"; readonly member: string }
  /** A new leader asks every tab of the channel to join again. */
  | { readonly t: "who" };

export type Deliver = (message: HostMessage) => void;

/**
 * Tabs share a stream only when they ask for the same thing the same way: same hub, same token,
 * same topic set, same headers and credentials mode. Tabs with different tokens never share.
 */
export function shareKey(options: SharedStreamOptions): string {
  const headers = Object.entries(options.headers ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  const topics = [...options.topics].sort();
  return JSON.stringify([options.url, options.token ?? null, topics, headers, options.withCredentials]);
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
