import { errorFromResponse, type HeraldClientError } from "./transport.ts";
import { routeUrl } from "./url.ts";

/**
 * The event that opens every Herald stream that supports live topic changes:
 * `event: herald.stream`, data `{"id": "<stream id>", "topics": [...]}`. The SDK keeps it to itself.
 */
export const STREAM_EVENT_TYPE = "herald.stream";

/** A topic list from the application: one topic or several, none empty. Throws a TypeError naming `what`. */
export function topicList(topics: string | readonly string[], what: string): string[] {
  const list = typeof topics === "string" ? [topics] : [...topics];
  if (list.length === 0 || list.some((t) => typeof t !== "string" || t === "")) {
    throw new TypeError(`${what} needs at least one non-empty topic, e.g. ["news"]`);
  }
  return [...new Set(list)];
}

/** `current` with `add` added (in order, once) and `remove` taken out. */
export function changeTopics(
  current: readonly string[],
  add: readonly string[],
  remove: readonly string[],
): string[] {
  const next = current.filter((t) => !remove.includes(t));
  for (const t of add) if (!next.includes(t)) next.push(t);
  return next;
}

export interface TopicChangeRequest {
  /** Herald's base URL (as given to subscribe). */
  readonly url: string | URL;
  readonly streamId: string;
  readonly add: readonly string[];
  readonly remove: readonly string[];
  readonly token: string | undefined;
  readonly withCredentials: boolean;
  readonly fetch: typeof fetch;
}

/**
 * `POST /streams/{id}/topics` with `{"add": [...], "remove": [...]}` and the stream's own token.
 * Resolves with the stream's topics after the change (Herald's 200 answer), or with the
 * HeraldClientError of any other answer (400 bad topic, 403 not allowed, 404 no such stream).
 */
export async function postTopicChange(
  request: TopicChangeRequest,
): Promise<{ topics: string[] } | { error: HeraldClientError }> {
  const url = routeUrl(request.url, `streams/${encodeURIComponent(request.streamId)}/topics`);
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (request.token !== undefined) headers.Authorization = `Bearer ${request.token}`;
  const response = await request.fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify({ add: request.add, remove: request.remove }),
    credentials: request.withCredentials ? "include" : "same-origin",
  });
  if (!response.ok) return { error: await errorFromResponse(response) };
  const body = (await response.json()) as { topics?: unknown };
  const topics = Array.isArray(body.topics) ? body.topics.filter((t) => typeof t === "string") : [];
  return { topics };
}
