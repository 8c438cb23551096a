import { request } from "node:http";
import { defaultsWith, type HeraldConfig } from "../../packages/herald/src/config/settings.ts";
import { type Herald, type HeraldDeps, startHerald } from "../../packages/herald/src/herald.ts";
import { createLogger } from "../../packages/herald/src/ops/logger.ts";
import { Waiters } from "./waiters.ts";

/**
 * Starts Herald on an ephemeral loopback port with quiet logs. Call `close()` in an `after` hook.
 * Anonymous publishing is on, and the publish and control rates and per-IP stream limits are out of the way
 * (every test client is 127.0.0.1), unless the test says otherwise: tests about other things need
 * no token and hit no limit. test/auth and test/limits set them.
 */
export function startTestHerald(
  overrides: Partial<HeraldConfig> = {},
  deps: Omit<HeraldDeps, "log"> = {},
): Promise<Herald> {
  const config = defaultsWith({
    port: 0,
    host: "127.0.0.1",
    logLevel: "silent",
    workers: 1,
    allowAnonymousPublish: true,
    publishRate: 1_000_000,
    publishBurst: 1_000_000,
    controlRate: 1_000_000,
    controlBurst: 1_000_000,
    maxConnectionsPerIp: 1_000_000,
    ...overrides,
  });
  return startHerald(config, { ...deps, log: createLogger(config.logLevel) });
}

export interface JsonResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text: string;
}

/** Sends a request with a raw body and parses the JSON answer (when it is JSON). */
export async function httpRequest(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Uint8Array<ArrayBuffer>;
  } = {},
): Promise<JsonResponse> {
  const response = await fetch(url, {
    method: options.method ?? "GET",
    headers: options.headers,
    body: options.body,
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: Object.fromEntries(response.headers), body, text };
}

export function publish(baseUrl: string, payload: unknown): Promise<JsonResponse> {
  return httpRequest(`${baseUrl}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(payload),
  });
}

/**
 * A raw SSE reader over node:http: collects the stream's text so tests can check exact bytes.
 * `paused` leaves the socket unread (a slow client); `send` makes it another method with a body
 * (Mercure's `QUERY`).
 */
export class RawStream {
  text = "";
  status = 0;
  headers: Record<string, string | string[] | undefined> = {};
  closed = false;
  private readonly waiters = new Waiters();
  private readonly req;

  constructor(
    url: string,
    headers: Record<string, string> = {},
    paused = false,
    send: { method: string; body: string } | undefined = undefined,
  ) {
    const method = send?.method ?? "GET";
    this.req = request(url, { method, headers: { accept: "text/event-stream", ...headers } }, (res) => {
      this.status = res.statusCode ?? 0;
      this.headers = res.headers;
      if (paused) {
        res.pause();
        this.waiters.check();
        return;
      }
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        this.text += chunk;
        this.waiters.check();
      });
      res.on("close", () => {
        this.closed = true;
        this.waiters.check();
      });
    });
    this.req.on("error", () => {
      this.closed = true;
      this.waiters.check();
    });
    this.req.end(send?.body);
  }

  /** Resolves once `test()` holds; rejects after `ms`. */
  until(test: () => boolean, ms = 5000): Promise<void> {
    return this.waiters.wait(test, ms, () => `timed out; stream so far: ${this.text.slice(-500)}`);
  }

  opened(): Promise<void> {
    return this.until(() => this.text.includes(": ok\n"));
  }

  /** The `data` of every event with an id, parsed naively (one data line per event). */
  ids(): string[] {
    return [...this.text.matchAll(/^id: (.*)$/gm)].map((m) => m[1] as string);
  }

  close(): void {
    this.req.destroy();
  }
}
