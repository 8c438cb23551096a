import cluster, { type Worker } from "node:cluster";
import { ConnectionLimiter, type ConnectionLimits } from "../access/connection-limiter.ts";
import type { RateBucket, SharedLimits } from "../access/limits.ts";
import { RateLimiter, type RateLimiterOptions } from "../access/rate-limiter.ts";
import { HeraldError, type HeraldErrorCode } from "../core/errors.ts";

/**
 * The stream, publish-rate and control-rate limits of a `--workers N` cluster, counted once for the whole machine
 * by the primary, over node:cluster's IPC (JSON), beside the ClusterBus and figures messages:
 *
 * worker -> primary: `limits?` {asks}: the asks of one event-loop turn, in order:
 *   {rid, stream: ip}  may a stream from `ip` open? answered with a lease;
 *   {rid, publish: key, count?, refund?, bucket?}  may `key` publish `count` events (default 1)?
 *     answered with the tokens taken for it (at least `count`); when refused, `refund` tokens the
 *     request took before (a batch's first) go back to the bucket. `bucket: "control"`: the same
 *     for one control request (HERALD_CONTROL_RATE), from the control bucket;
 *   {giveBack: key, count}  `count` publish tokens `key` took before go back to the bucket (a
 *     batch's first, when the worker's own count refused the rest; no answer);
 *   {release: lease}  a stream ended (no answer).
 * primary -> worker: `limits` {answers}: {rid, lease} | {rid, tokens} | {rid, error}, in order asked.
 *
 * Publish (and control) tokens: the primary's bucket per key is the only one. A worker that asks gets one token,
 * or, when the bucket is far from empty, a share of it (1 / (2 * workers) of what it holds) to spend
 * locally for up to TOKEN_LEASE_MS, so a publisher well under its limit costs no round trip per
 * publish. A batch of N events asks for N at once (all or nothing) unless its lease holds them.
 * Tokens are only ever taken from the one bucket, so the machine never admits more than the
 * limit; near the limit each publish asks (exact). Unspent tokens lapse (never over-admitting).
 *
 * Contract: a refusal is the same error (code, message, Retry-After) one process gives. A worker that
 * exits gives its stream places back. If the primary is gone, asks reject with `unavailable`.
 * Cost: one IPC round trip per stream opened, and per publish near the rate limit.
 */
export const TOKEN_LEASE_MS = 1000;
/** Most publish leases a worker keeps; lapsed ones are dropped first. */
const MAX_TOKEN_LEASES = 10_000;
export type LimitsToPrimary = { herald: "limits?"; asks: LimitAsk[] };
export type LimitsToWorker = { herald: "limits"; answers: LimitAnswer[] };

type LimitAsk =
  | { rid: number; stream: string }
  | { rid: number; publish: string; count?: number; refund?: number; bucket?: "control" }
  | { giveBack: string; count: number }
  | { release: number };
type LimitAnswer =
  | { rid: number; lease: number }
  | { rid: number; tokens: number }
  | { rid: number; error: WireError };
interface WireError {
  code: string;
  message: string;
  retryAfterSeconds?: number;
}

/** How a worker talks to its primary: `process.send` and 'message' in production. */
export interface LimitsChannel {
  send(message: LimitsToPrimary): void;
  onMessage(listener: (message: LimitsToWorker) => void): void;
}

/** Worker side: asks the primary. */
export class ClusterLimits implements SharedLimits {
  private asks: LimitAsk[] = [];
  private readonly waiting = new Map<
    number,
    { resolve: (lease: number | undefined) => void; reject: (error: Error) => void }
  >();
  private nextRid = 1;
  private lostPrimary = false;
  /** Tokens taken from the primary and not spent yet, per bucket and key (`leaseKey`). */
  private readonly tokens = new Map<string, { left: number; until: number }>();
  /** The ask in flight for a bucket's and key's tokens (`leaseKey`). */
  private readonly asking = new Map<string, Promise<void>>();

  constructor(private readonly channel: LimitsChannel) {
    channel.onMessage((message) => {
      if (message?.herald === "limits") this.onAnswers(message.answers);
    });
  }

  async acquireStream(ip: string): Promise<() => void> {
    const lease = (await this.ask((rid) => ({ rid, stream: ip }))) as number;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.queue({ release: lease });
    };
  }

  takePublish(key: string, count = 1, refund = 0): Promise<void> | undefined {
    return this.take("publish", key, count, refund);
  }

  takeControl(key: string): Promise<void> | undefined {
    return this.take("control", key, 1, 0);
  }

  giveBackPublish(key: string, count: number): void {
    // to the primary's bucket, whether the token came from this worker's lease or from an ask:
    // both were taken from it
    this.queue({ giveBack: key, count });
  }

  private take(bucket: RateBucket, key: string, count: number, refund: number): Promise<void> | undefined {
    const held = leaseKey(bucket, key);
    const lease = this.tokens.get(held);
    if (lease !== undefined && lease.left >= count && Date.now() < lease.until) {
      lease.left -= count;
      return undefined;
    }
    const asked = (rid: number): LimitAsk => {
      const ask: LimitAsk = { rid, publish: key };
      if (count > 1) ask.count = count;
      if (refund > 0) ask.refund = refund;
      if (bucket === "control") ask.bucket = bucket;
      return ask;
    };
    if (count > 1 || refund > 0) {
      // a batch: its own ask, all or nothing (what the primary gives beyond it becomes the lease)
      return this.ask(asked).then((taken = count) => {
        if (taken > count) this.keepTokens(held, taken - count);
      });
    }
    // One ask per bucket and key at a time: the others wait for its tokens (asking each for a
    // share of the bucket would drain it for tokens nobody spends).
    const asking = this.asking.get(held);
    if (asking !== undefined) return asking.then(...this.retry(bucket, key));
    const ask = this.ask(asked).then(
      (taken = 1) => {
        this.asking.delete(held);
        if (taken > 1) this.keepTokens(held, taken - 1);
      },
      (error: unknown) => {
        this.asking.delete(held);
        throw error;
      },
    );
    this.asking.set(held, ask);
    return ask;
  }

  /** After the ask in flight settled, however: take from its tokens, or ask again. */
  private retry(bucket: RateBucket, key: string): [() => Promise<void>, () => Promise<void>] {
    const again = async () => {
      await this.take(bucket, key, 1, 0);
    };
    return [again, again];
  }

  private keepTokens(key: string, left: number): void {
    if (this.tokens.size >= MAX_TOKEN_LEASES) {
      const now = Date.now();
      for (const [k, lease] of this.tokens) if (lease.until <= now || lease.left === 0) this.tokens.delete(k);
      if (this.tokens.size >= MAX_TOKEN_LEASES) this.tokens.clear(); // lapse early: never over-admits
    }
    this.tokens.set(key, { left, until: Date.now() + TOKEN_LEASE_MS });
  }

  /** The primary is gone: every waiting ask rejects with `unavailable`, and so does every later one. */
  lost(): void {
    this.lostPrimary = true;
    for (const { reject } of this.waiting.values()) reject(unavailable());
    this.waiting.clear();
  }

  private ask(make: (rid: number) => LimitAsk): Promise<number | undefined> {
    if (this.lostPrimary) return Promise.reject(unavailable());
    const rid = this.nextRid++;
    return new Promise((resolve, reject) => {
      this.waiting.set(rid, { resolve, reject });
      this.queue(make(rid));
    });
  }

  private queue(ask: LimitAsk): void {
    if (this.lostPrimary) return;
    if (this.asks.length === 0) setImmediate(() => this.sendAsks());
    this.asks.push(ask);
  }

  private sendAsks(): void {
    const asks = this.asks;
    this.asks = [];
    if (asks.length === 0 || this.lostPrimary) return;
    try {
      this.channel.send({ herald: "limits?", asks });
    } catch {
      this.lost();
    }
  }

  private onAnswers(answers: readonly LimitAnswer[]): void {
    for (const answer of answers) {
      const waiter = this.waiting.get(answer.rid);
      this.waiting.delete(answer.rid);
      if (waiter === undefined) continue;
      if ("error" in answer) {
        const { code, message, retryAfterSeconds } = answer.error;
        waiter.reject(new HeraldError(code as HeraldErrorCode, message, { retryAfterSeconds }));
      } else waiter.resolve("lease" in answer ? answer.lease : answer.tokens);
    }
  }
}

/** The key of a worker's lease of `bucket` tokens for `key` (a control key never meets a publish one). */
function leaseKey(bucket: RateBucket, key: string): string {
  return bucket === "publish" ? key : `${bucket}\n${key}`;
}

/**
 * Primary side: counts the whole machine's streams, publishes and control requests. Call once, in
 * the primary.
 */
export function serveClusterLimits(
  streamLimits: ConnectionLimits,
  rate: RateLimiterOptions,
  control: RateLimiterOptions,
): void {
  const streams = new ConnectionLimiter(streamLimits);
  const publishRate = new RateLimiter(rate);
  const controlRate = new RateLimiter(control);
  const leases = new Map<Worker, Map<number, () => void>>();
  let nextLease = 1;
  setInterval(() => {
    publishRate.sweep();
    controlRate.sweep();
  }, 60_000).unref();

  cluster.on("message", (worker: Worker, message: LimitsToPrimary) => {
    if (message?.herald !== "limits?" || worker.isDead()) return;
    let mine = leases.get(worker);
    if (mine === undefined) {
      mine = new Map();
      leases.set(worker, mine);
    }
    const answers: LimitAnswer[] = [];
    for (const ask of message.asks) {
      if ("release" in ask) {
        mine.get(ask.release)?.();
        mine.delete(ask.release);
        continue;
      }
      if ("giveBack" in ask) {
        if (Number.isSafeInteger(ask.count) && ask.count > 0) publishRate.giveBack(ask.giveBack, ask.count);
        continue;
      }
      try {
        if ("stream" in ask) {
          const lease = nextLease++;
          mine.set(lease, streams.acquire(ask.stream));
          answers.push({ rid: ask.rid, lease });
        } else {
          const workers = Math.max(1, Object.keys(cluster.workers ?? {}).length);
          const count = typeof ask.count === "number" && ask.count > 1 ? Math.floor(ask.count) : 1;
          const refund = typeof ask.refund === "number" && ask.refund > 0 ? Math.floor(ask.refund) : 0;
          const share = 1 / (2 * workers);
          const [bucket, options] = ask.bucket === "control" ? [controlRate, control] : [publishRate, rate];
          const tokens = bucket.takeShare(ask.publish, share, options.ratePerSec, count, refund);
          answers.push({ rid: ask.rid, tokens });
        }
      } catch (error) {
        answers.push({ rid: ask.rid, error: toWireError(error) });
      }
    }
    if (answers.length > 0 && worker.isConnected()) worker.send({ herald: "limits", answers });
  });
  cluster.on("exit", (worker: Worker) => {
    for (const release of leases.get(worker)?.values() ?? []) release();
    leases.delete(worker);
  });
}

function toWireError(error: unknown): WireError {
  const herald =
    error instanceof HeraldError ? error : new HeraldError("internal", "the cluster primary failed to count");
  const wire: WireError = { code: herald.code, message: herald.message };
  if (herald.retryAfterSeconds !== undefined) wire.retryAfterSeconds = herald.retryAfterSeconds;
  return wire;
}

function unavailable(): HeraldError {
  return new HeraldError("unavailable", "the cluster primary is gone; retry against another node", {
    retryAfterSeconds: 1,
  });
}
