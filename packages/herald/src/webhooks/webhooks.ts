import { randomUUID } from "node:crypto";
import { type Endpoint, endpointOf } from "../http/url-credentials.ts";
import type { Identity } from "../presence/presence.ts";
import type { Transition } from "../presence/table.ts";
import type { WebhookType } from "./events.ts";
import { type WebhookJob, WebhookQueue } from "./queue.ts";
import { SIGNATURE_HEADER, signature } from "./sign.ts";

/** What a webhook call's JSON body holds (docs/webhooks.md). `attempt` counts from 1. */
interface WebhookEvent {
  readonly id: string;
  readonly type: WebhookType;
  readonly topic: string;
  /** subscriber.*: the token's sub, null when the stream has none. */
  readonly sub?: Identity;
  /** When it happened (ms since the Unix epoch). */
  readonly time: number;
}

export interface WebhooksOptions {
  /** `--webhook-url`, checked at start; its `user:password@` become Basic auth (http/url-credentials.ts). */
  readonly url: string;
  readonly secret: string;
  readonly events: readonly string[];
  readonly timeoutMs: number;
  readonly attempts: number;
  readonly maxQueued: number;
  /** Calls in flight at most (default WEBHOOK_CONCURRENCY). */
  readonly concurrency?: number;
  readonly log: { warn(fields: object, message: string): void };
}

/** Calls in flight at most (over all topics), per node. */
export const WEBHOOK_CONCURRENCY = 8;

/**
 * Sends presence changes to `--webhook-url`: a POST of JSON, signed (`Herald-Signature`), retried
 * with backoff and jitter (webhooks/queue.ts: ordered per topic, bounded, drops counted).
 * Nothing here is on a stream's path: `send` only queues; the calls run on their own, at most
 * `concurrency` (WEBHOOK_CONCURRENCY) at once, each cut off after `timeoutMs`. Who calls `send` decides "once per
 * cluster" (herald.ts: connected/disconnected by the node of the stream, occupied/vacated by the
 * leading node).
 */
/** Least time between two log lines about dropped events (`Webhooks.tellDrops`). */
const DROP_LOG_INTERVAL_MS = 10_000;

export class Webhooks {
  readonly queue: WebhookQueue<WebhookEvent>;
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly wanted: ReadonlySet<string>;
  private closed = false;
  private readonly aborts = new Set<AbortController>();
  /** Events dropped (queue full) since the last log line about drops, and when that line was. */
  private dropsUntold = 0;
  private dropsToldAt = Number.NEGATIVE_INFINITY;
  /** Told after each call while `drain` waits. */
  private idle: (() => void) | undefined;

  private readonly endpoint: Endpoint;

  constructor(private readonly options: WebhooksOptions) {
    this.endpoint = endpointOf(options.url);
    this.queue = new WebhookQueue({ maxQueued: options.maxQueued, attempts: options.attempts });
    this.wanted = new Set(options.events);
  }

  /** A stream of this node joined or left a watched topic. */
  local(type: "connected" | "disconnected", topic: string, sub: Identity): void {
    this.send({ type: `subscriber.${type}`, topic, sub });
  }

  /** A cluster-wide transition (on the leading node). */
  transition(transition: Transition): void {
    if (transition.type === "occupied" || transition.type === "vacated") {
      this.send({ type: `topic.${transition.type}`, topic: transition.topic });
    }
  }

  /**
   * Before a graceful stop: keeps sending (retries included) until every queued event was
   * delivered or given up, or until `deadline` (ms since the Unix epoch), whichever comes first.
   * `close` then drops what is left (and logs how many).
   */
  drain(deadline: number): Promise<void> {
    if (this.closed || this.queue.size === 0 || Date.now() >= deadline) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.idle = undefined;
        resolve();
      };
      const timer = setTimeout(done, deadline - Date.now());
      this.idle = () => {
        if (this.queue.size === 0) done();
      };
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.tellDrops(undefined);
    if (this.queue.size > 0) {
      this.options.log.warn(
        { waiting: this.queue.size },
        "webhook events not sent: Herald stopped before they were delivered (HERALD_SHUTDOWN_TIMEOUT)",
      );
    }
    clearTimeout(this.timer);
    for (const abort of this.aborts) abort.abort();
  }

  private send(event: { type: WebhookType; topic: string; sub?: Identity }): void {
    if (this.closed || !this.wanted.has(event.type)) return;
    const now = Date.now();
    if (!this.queue.push(event.topic, { id: randomUUID(), time: now, ...event }, now)) {
      this.dropsUntold++;
      if (now - this.dropsToldAt >= DROP_LOG_INTERVAL_MS) this.tellDrops(now);
      return;
    }
    this.pump();
  }

  /**
   * Logs the drops not told yet, in one line (`at`: now, and the next line waits
   * DROP_LOG_INTERVAL_MS; undefined: at the stop). A dead endpoint under connection churn drops an
   * event per connect: one line each would flood the log.
   */
  private tellDrops(at: number | undefined): void {
    if (this.dropsUntold === 0) return;
    this.options.log.warn(
      { dropped: this.dropsUntold, queued: this.queue.size },
      `webhook queue full (HERALD_WEBHOOK_MAX_QUEUE): events dropped, counted in herald_webhook_dropped_total; at most one such line per ${DROP_LOG_INTERVAL_MS / 1000} s`,
    );
    this.dropsUntold = 0;
    if (at !== undefined) this.dropsToldAt = at;
  }

  private pump(): void {
    if (this.closed) return;
    const now = Date.now();
    for (const job of this.queue.take(now, (this.options.concurrency ?? WEBHOOK_CONCURRENCY) - this.inFlight))
      void this.call(job);
    clearTimeout(this.timer);
    const due = this.queue.nextDue();
    if (due !== undefined && this.inFlight < (this.options.concurrency ?? WEBHOOK_CONCURRENCY)) {
      this.timer = setTimeout(() => this.pump(), Math.max(0, due - now));
      this.timer.unref();
    }
  }

  private async call(job: WebhookJob<WebhookEvent>): Promise<void> {
    this.inFlight++;
    const body = JSON.stringify({ ...job.payload, attempt: job.attempts });
    const abort = new AbortController();
    this.aborts.add(abort);
    const timer = setTimeout(() => abort.abort(), this.options.timeoutMs);
    let ok = false;
    let why = "";
    try {
      const headers: Record<string, string> = {
        "content-type": "application/json",
        [SIGNATURE_HEADER]: signature(this.options.secret, body, Math.floor(Date.now() / 1000)),
      };
      if (this.endpoint.authorization !== undefined) headers.authorization = this.endpoint.authorization;
      const response = await fetch(this.endpoint.url, {
        method: "POST",
        headers,
        body,
        signal: abort.signal,
        redirect: "manual",
      });
      await response.body?.cancel().catch(() => {});
      ok = response.status >= 200 && response.status < 300;
      why = `answered ${response.status}`;
    } catch (error) {
      why = abort.signal.aborted
        ? `no answer within ${this.options.timeoutMs} ms`
        : String((error as Error).message);
    } finally {
      clearTimeout(timer);
      this.aborts.delete(abort);
      this.inFlight--;
    }
    if (this.closed) return;
    if (ok) this.queue.delivered(job);
    else if (this.queue.failed(job, Date.now(), Math.random()) === "given-up") {
      this.options.log.warn(
        { type: job.payload.type, topic: job.payload.topic, attempts: job.attempts, why },
        "webhook given up",
      );
    }
    this.pump();
    this.idle?.();
  }
}
