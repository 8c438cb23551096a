import { HeraldError } from "../core/errors.ts";

/** What a refusal names (`RateLimiterOptions.names`). */
export interface RateNames {
  readonly limit: string;
  readonly settings: string;
  /** What one token stands for, said when a single one is refused. */
  readonly counts?: string;
}

const PUBLISH_NAMES: RateNames = {
  limit: "publish rate limit",
  settings: "HERALD_PUBLISH_RATE, HERALD_PUBLISH_BURST",
};

/** What a control-rate refusal names (`RateLimiter` `names`). */
export const CONTROL_RATE_NAMES: RateNames = {
  limit: "control rate limit",
  settings: "HERALD_CONTROL_RATE, HERALD_CONTROL_BURST",
  counts:
    "tickets (POST /tickets and ?ticket=), stream topic changes and token renewals each append a record to the bus log and count one",
};

interface Bucket {
  tokens: number;
  updated: number;
}

export interface RateLimiterOptions {
  /** Tokens added per second (HERALD_PUBLISH_RATE). */
  readonly ratePerSec: number;
  /** Bucket size: publishes (events) allowed at once (HERALD_PUBLISH_BURST). */
  readonly burst: number;
  /**
   * What a refusal names: the limit, the settings that raise it, and what counts toward it
   * (default: the publish rate, HERALD_PUBLISH_RATE and HERALD_PUBLISH_BURST).
   */
  readonly names?: RateNames;
  /** Most keys tracked; when full, buckets that have refilled are dropped first. */
  readonly maxKeys?: number;
  readonly now?: () => number;
}

/**
 * A token bucket per key (a token's subject or hash, or `ip:<address>` when anonymous); written
 * here rather than a library because it is 50 lines. For the publish rate one token is one event
 * published (a batch of N takes N); for the control rate, one request that appends a control
 * record (`Access.chargeControl`). `take` throws 429 `too_many_requests` with Retry-After (whole seconds until the
 * tokens asked for are back) when the key's bucket holds fewer; it takes all or nothing. Memory
 * is bounded: a bucket that has refilled holds no information and is dropped by the sweep.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(private readonly options: RateLimiterOptions) {
    this.now = options.now ?? Date.now;
    this.maxKeys = options.maxKeys ?? 100_000;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Tokens the bucket holds when full (HERALD_PUBLISH_BURST): the most one request may take. */
  get burst(): number {
    return this.options.burst;
  }

  /**
   * Takes `count` tokens (all or nothing); 429 when fewer are left. `refund`: tokens this request
   * already took (a batch's first, taken before its body was read), given back when it is refused,
   * so that a refused batch costs nothing and its Retry-After is when all of it may pass.
   */
  take(key: string, count = 1, refund = 0): void {
    this.takeShare(key, 0, count, count, refund);
  }

  /**
   * Takes at least `count` tokens, and up to `share` of what the bucket holds (at most `max`): a
   * lease a cluster worker spends locally (src/server/cluster-limits.ts). Returns how many were
   * taken; throws 429 like `take` when fewer than `count` are left.
   */
  takeShare(key: string, share: number, max: number, count = 1, refund = 0): number {
    const bucket = this.bucketOf(key);
    if (bucket.tokens < count) {
      bucket.tokens = Math.min(this.options.burst, bucket.tokens + refund);
      const all = count + refund; // what the request takes when it comes again
      const seconds = Math.max(1, Math.ceil((all - bucket.tokens) / this.options.ratePerSec));
      const names = this.options.names ?? PUBLISH_NAMES;
      const what =
        all === 1
          ? names.counts === undefined
            ? ""
            : `: ${names.counts}`
          : `: this batch of ${all} events counts as ${all} publishes and ${Math.floor(bucket.tokens)} are left`;
      throw new HeraldError(
        "too_many_requests",
        `${names.limit} reached (${this.options.ratePerSec}/s, bursts of ${this.options.burst}: ${names.settings})${what}; retry in ${seconds}s`,
        { retryAfterSeconds: seconds },
      );
    }
    const taken = Math.max(count, Math.min(max, Math.floor(bucket.tokens * share)));
    bucket.tokens -= taken;
    return taken;
  }

  /** Gives back `count` tokens taken for a publish that was refused elsewhere (never above the burst). */
  giveBack(key: string, count: number): void {
    const bucket = this.bucketOf(key);
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + count);
  }

  /** The key's bucket, refilled up to now (a new one is full). */
  private bucketOf(key: string): Bucket {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxKeys) this.sweep();
      bucket = { tokens: this.options.burst, updated: now };
      this.buckets.set(key, bucket);
    } else {
      const refill = ((now - bucket.updated) / 1000) * this.options.ratePerSec;
      bucket.tokens = Math.min(this.options.burst, bucket.tokens + refill);
      bucket.updated = now;
    }
    return bucket;
  }

  /** Drops buckets that have refilled; when every bucket is busy, drops the oldest half. */
  sweep(): void {
    const now = this.now();
    for (const [key, bucket] of this.buckets) {
      const tokens = bucket.tokens + ((now - bucket.updated) / 1000) * this.options.ratePerSec;
      if (tokens >= this.options.burst) this.buckets.delete(key);
    }
    if (this.buckets.size >= this.maxKeys) {
      let drop = this.buckets.size / 2;
      for (const key of this.buckets.keys()) {
        if (drop-- <= 0) break;
        this.buckets.delete(key);
      }
    }
  }
}
