import type { ConnectionLimiter } from "./connection-limiter.ts";
import type { RateLimiter } from "./rate-limiter.ts";

/** Limits counted beyond this process: the cluster primary's count for the whole machine. */
export interface SharedLimits {
  /** Resolves with the release of the stream's place (idempotent); rejects 429/503 at a limit. */
  acquireStream(ip: string): Promise<() => void>;
  /**
   * Takes a publish token for `key`: undefined when it could be taken at once, else a promise that
   * resolves when it was, or rejects 429 when the bucket is empty.
   */
  takePublish(key: string): Promise<void> | undefined;
}

/**
 * The stream limits (total, per IP) and the publish rate limit (per token, or per IP when
 * anonymous) that both APIs (Herald's and Mercure's) apply. Counted in this process; with
 * `--workers N` also by the primary for the whole machine (src/server/cluster-limits.ts), so a
 * configured limit means the same with one process or many. This process's count is never above
 * the machine's, so it refuses only what the machine would refuse too.
 */
export class Limits {
  constructor(
    readonly streams: ConnectionLimiter,
    readonly publishRate: RateLimiter,
    private readonly shared?: SharedLimits,
  ) {}

  /** Takes a place for a stream from `ip` (429/503 with Retry-After at a limit); the release is idempotent. */
  async acquireStream(ip: string): Promise<() => void> {
    const local = this.streams.acquire(ip);
    if (this.shared === undefined) return local;
    let remote: () => void;
    try {
      remote = await this.shared.acquireStream(ip);
    } catch (error) {
      local();
      throw error;
    }
    return () => {
      local();
      remote();
    };
  }

  /**
   * A publish by `key` takes a token (429 with Retry-After when none is left). Throws at once for
   * this process's count; returns a promise only when the machine's count is asked too.
   */
  takePublish(key: string): Promise<void> | undefined {
    this.publishRate.take(key);
    return this.shared?.takePublish(key);
  }
}
