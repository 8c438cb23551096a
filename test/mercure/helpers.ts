import { EventSource } from "eventsource";
import { mintHs256 } from "../../packages/herald/src/auth/index.ts";
import type { HeraldConfig } from "../../packages/herald/src/config/settings.ts";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { startTestHerald } from "../helpers/herald.ts";
import { Waiters } from "../helpers/waiters.ts";

export const SECRET = "mercure-test-secret-mercure-test-secret";
export const HUB = "/.well-known/mercure";

/**
 * Herald for Mercure 0.x clients: a Mercure key (HS256), compatibility mode 8, anonymous
 * subscribers allowed unless overridden.
 */
export function startMercureHerald(overrides: Partial<HeraldConfig> = {}): Promise<Herald> {
  return startTestHerald({
    mercureJwtKey: SECRET,
    mercureAnonymous: true,
    mercureProtocolCompatibility: 8,
    ...overrides,
  });
}

/** A token with the `mercure` claim (publish / subscribe / payload). */
export function mercureToken(
  claim: { publish?: string[]; subscribe?: string[]; payload?: unknown },
  options: { expiresInSec?: number; secret?: string } = {},
): Promise<string> {
  return mintHs256(options.secret ?? SECRET, { mercure: claim }, { expiresInSec: options.expiresInSec });
}

export interface FormAnswer {
  status: number;
  text: string;
  headers: Headers;
}

/** A Mercure publish: form-encoded fields (repeat a name for several topics). */
export async function mercurePublish(
  baseUrl: string,
  fields: [string, string][],
  headers: Record<string, string> = {},
): Promise<FormAnswer> {
  const response = await fetch(`${baseUrl}${HUB}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

/** Publishes and asserts 200; answers the id. */
export async function published(baseUrl: string, token: string, fields: [string, string][]): Promise<string> {
  const answer = await mercurePublish(baseUrl, fields, { authorization: `Bearer ${token}` });
  if (answer.status !== 200) throw new Error(`publish answered ${answer.status}: ${answer.text}`);
  return answer.text;
}

export interface Received {
  readonly id: string;
  readonly type: string;
  readonly data: string;
}

/**
 * A subscriber on a real EventSource (the `eventsource` package). Collects events of type
 * `message` and of `types`; `status`/`headers` are those of the (first) response.
 */
export class MercureListener {
  readonly events: Received[] = [];
  status = 0;
  headers: Headers | undefined;
  /** The headers of every request the EventSource made (the first, then each reconnection). */
  readonly requests: Record<string, string>[] = [];
  error: string | undefined;
  private readonly source: EventSource;
  private readonly waiters = new Waiters();
  private readonly openedPromise: Promise<void>;

  constructor(
    baseUrl: string,
    query: [string, string][],
    options: { headers?: Record<string, string>; types?: string[] } = {},
  ) {
    const url = `${baseUrl}${HUB}?${new URLSearchParams(query).toString()}`;
    let opened: () => void = () => {};
    this.openedPromise = new Promise((resolve) => {
      opened = resolve;
    });
    this.source = new EventSource(url, {
      fetch: async (input, init) => {
        const headers = { ...(init?.headers as Record<string, string>), ...options.headers };
        this.requests.push(headers);
        const response = await fetch(input, { ...init, headers });
        if (this.status === 0) {
          this.status = response.status;
          this.headers = response.headers;
          opened();
          if (response.status !== 200) this.source.close();
        }
        return response;
      },
    });
    const collect = (event: MessageEvent) => {
      this.events.push({ id: event.lastEventId, type: event.type, data: String(event.data) });
      this.waiters.check();
    };
    this.source.addEventListener("message", collect);
    for (const type of options.types ?? []) this.source.addEventListener(type, collect);
    this.source.addEventListener("error", (event) => {
      this.error = (event as { message?: string }).message ?? "error";
      this.waiters.check();
    });
  }

  /** Resolves once the first response's status is known. */
  opened(): Promise<void> {
    return this.openedPromise;
  }

  /** The data of the events received so far. */
  get data(): string[] {
    return this.events.map((e) => e.data);
  }

  /** Resolves once an event with this data has arrived (rejects after `ms`). */
  receives(data: string, ms = 5000): Promise<void> {
    return this.until(() => this.data.includes(data), ms, `event ${JSON.stringify(data)}`);
  }

  until(test: () => boolean, ms = 5000, what = "condition"): Promise<void> {
    return this.waiters.wait(
      test,
      ms,
      () => `timed out waiting for ${what}; received ${JSON.stringify(this.data)}`,
    );
  }

  close(): void {
    this.source.close();
  }
}

/** Opens a listener and waits until the hub answered it. */
export async function listen(
  baseUrl: string,
  query: [string, string][],
  options: { headers?: Record<string, string>; types?: string[] } = {},
): Promise<MercureListener> {
  const listener = new MercureListener(baseUrl, query, options);
  await listener.opened();
  return listener;
}

/** Listeners a suite opens with `open` (as `listen`), closed together by `closeAll` in its `after`. */
export function listenerPool() {
  const listeners: MercureListener[] = [];
  return {
    open: async (...args: Parameters<typeof listen>): Promise<MercureListener> => {
      const listener = await listen(...args);
      listeners.push(listener);
      return listener;
    },
    closeAll: (): void => {
      for (const listener of listeners) listener.close();
    },
  };
}
