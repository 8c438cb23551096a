/**
 * The webhook queue (no I/O; the caller gives the time and the randomness): bounded, one lane per
 * topic, retries with exponential backoff and jitter.
 *
 * Ordering: the events of one topic are sent one at a time, in the order queued; the next one
 * waits until the previous was answered 2xx or given up (`attempts` failures). Topics do not wait
 * for one another (up to the sender's concurrency).
 * Bound: at most `maxQueued` events wait (sending ones included); an event queued past it is
 * dropped at once and counted (`dropped`), so a dead receiver costs bounded memory.
 */
export interface WebhookJob<T> {
  readonly lane: string;
  readonly payload: T;
  /** Attempts made so far. */
  attempts: number;
  /** Not sent before this time (ms). */
  notBefore: number;
  sending: boolean;
}

export interface QueueOptions {
  readonly maxQueued: number;
  readonly attempts: number;
}

/** Delay before attempt `attempt + 1` after `attempt` failures: 0.5 s doubling, at most 30 s, times 0.5..1 (jitter). */
export function retryDelayMs(attempt: number, random: number): number {
  const base = Math.min(30_000, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.5 + random / 2));
}

export class WebhookQueue<T> {
  private readonly lanes = new Map<string, WebhookJob<T>[]>();
  private queued = 0;
  readonly counters = { queued: 0, dropped: 0, delivered: 0, retried: 0, failed: 0 };

  constructor(private readonly options: QueueOptions) {}

  get size(): number {
    return this.queued;
  }

  /** Queues `payload` on `lane`; false (and counted as dropped) when the queue is full. */
  push(lane: string, payload: T, now: number): boolean {
    if (this.queued >= this.options.maxQueued) {
      this.counters.dropped++;
      return false;
    }
    const job: WebhookJob<T> = { lane, payload, attempts: 0, notBefore: now, sending: false };
    const jobs = this.lanes.get(lane);
    if (jobs === undefined) this.lanes.set(lane, [job]);
    else jobs.push(job);
    this.queued++;
    this.counters.queued++;
    return true;
  }

  /** The jobs that may be sent now (each lane's head, when not sending and due), marked sending; at most `limit`. */
  take(now: number, limit: number): WebhookJob<T>[] {
    const out: WebhookJob<T>[] = [];
    for (const jobs of this.lanes.values()) {
      if (out.length >= limit) break;
      const head = jobs[0] as WebhookJob<T>;
      if (head.sending || head.notBefore > now) continue;
      head.sending = true;
      head.attempts++;
      out.push(head);
    }
    return out;
  }

  /** The earliest time a waiting lane head is due (undefined: none waiting). */
  nextDue(): number | undefined {
    let due: number | undefined;
    for (const jobs of this.lanes.values()) {
      const head = jobs[0] as WebhookJob<T>;
      if (!head.sending && (due === undefined || head.notBefore < due)) due = head.notBefore;
    }
    return due;
  }

  /** The receiver answered 2xx. */
  delivered(job: WebhookJob<T>): void {
    this.counters.delivered++;
    this.remove(job);
  }

  /** The attempt failed: retried after a backoff, or given up after `attempts` (answers which). */
  failed(job: WebhookJob<T>, now: number, random: number): "retry" | "given-up" {
    job.sending = false;
    if (job.attempts >= this.options.attempts) {
      this.counters.failed++;
      this.remove(job);
      return "given-up";
    }
    this.counters.retried++;
    job.notBefore = now + retryDelayMs(job.attempts, random);
    return "retry";
  }

  private remove(job: WebhookJob<T>): void {
    const jobs = this.lanes.get(job.lane);
    if (jobs === undefined || jobs[0] !== job) return;
    jobs.shift();
    this.queued--;
    if (jobs.length === 0) this.lanes.delete(job.lane);
  }
}
