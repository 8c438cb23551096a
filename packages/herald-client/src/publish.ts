import { errorFromResponse } from "./transport.ts";
import type { TokenSource } from "./types.ts";
import { routeUrl } from "./url.ts";

export interface PublishOptions<T = unknown> {
  /** Herald's base URL (the SDK adds `/publish`). */
  readonly url: string | URL;
  /** One topic or several: the event reaches subscribers of any of them. */
  readonly topic: string | readonly string[];
  /** A string is sent as is; any other value as its JSON text. */
  readonly data: T;
  /** The SSE event type (default `message`). */
  readonly event?: string | undefined;
  /**
   * Your own id: publishing the same event again (same id and content, same token subject and
   * rights) is a safe retry (the hub stores it once). Another publisher's id does not block yours.
   */
  readonly id?: string | undefined;
  /** The `retry:` hint sent with the event, in ms. */
  readonly retry?: number | undefined;
  /** Only subscribers authorized for one of its topics receive it. */
  readonly private?: boolean | undefined;
  /** Bearer token of a publisher. */
  readonly token?: TokenSource | undefined;
  readonly signal?: AbortSignal | undefined;
  /** The fetch to use (default: globalThis.fetch). */
  readonly fetch?: typeof fetch | undefined;
}

export interface PublishAnswer {
  /** The event's id (the hub's `<epoch>-<pos>`, or yours). */
  readonly id: string;
  /** Subscribers on the node that took the publish that the event was written or queued to. */
  readonly queued: number;
}

/**
 * Publishes one event (`POST /publish`). Resolves once the hub stored it; rejects with a
 * HeraldClientError (status, Herald's error code, its message) otherwise. Meant for servers: a
 * token in a browser page is visible to its users.
 */
export async function publish<T>(options: PublishOptions<T>): Promise<PublishAnswer> {
  const url = routeUrl(options.url, "publish");
  const token = typeof options.token === "function" ? await options.token() : options.token;
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  const body: Record<string, unknown> = {
    topic: options.topic,
    data: options.data,
    event: options.event,
    id: options.id,
    retry: options.retry,
    private: options.private,
  };
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const response = await fetchImpl(url, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
    signal: options.signal,
  });
  if (!response.ok) throw await errorFromResponse(response);
  return (await response.json()) as PublishAnswer;
}
