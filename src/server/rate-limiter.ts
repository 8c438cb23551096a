import { HeraldError } from "../core/errors.ts";

interface Bucket {
  tokens: number;
  updated: number;
}

export interface RateLimiterOptions {
  /** Tokens added per second (HERALD_PUBLISH_RATE). */
  readonly ratePerSec: number;
  /** Bucket size: requests allowed at once (HERALD_PUBLISH_BURST). */
  readonly burst: number;
  /** Most keys tracked; when full, buckets that have refilled are dropped first. */
  readonly maxKeys?: number;
  readonly now?: () => number;
}

/**
 * A token bucket per key (a token's subject or hash, or `ip:<address>` when anonymous); written
 * here rather than a library because it is 50 lines. `take` throws 429 `too_many_requests` with
 * Retry-After (whole seconds until one token is back) when the key's bucket is empty. Memory is
 * bounded: a bucket that has refilled holds no information and is dropped by the sweep.
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

  take(key: string): void {
    this.takeShare(key, 0, 1);
  }

  /**
   * Takes at least one token, and up to `share` of what the bucket holds (at most `max`): a lease a
   * cluster worker spends locally (src/server/cluster-limits.ts). Returns how many were taken;
   * throws 429 like `take` when not even one is left.
   */
  takeShare(key: string, share: number, max: number): number {
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
    if (bucket.tokens < 1) {
      const seconds = Math.max(1, Math.ceil((1 - bucket.tokens) / this.options.ratePerSec));
      throw new HeraldError(
        "too_many_requests",
        `publish rate limit reached (${this.options.ratePerSec}/s, bursts of ${this.options.burst}: HERALD_PUBLISH_RATE, HERALD_PUBLISH_BURST); retry in ${seconds}s`,
        { retryAfterSeconds: seconds },
      );
    }
    const taken = Math.max(1, Math.min(max, Math.floor(bucket.tokens * share)));
    bucket.tokens -= taken;
    return taken;
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
