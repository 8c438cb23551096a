import { HeraldError } from "../core/errors.ts";
import type { ConnectionLimiter } from "./connection-limiter.ts";
import type { RateLimiter } from "./rate-limiter.ts";

/** The two token buckets per key: publishes (events), and control requests (`Limits.takeControl`). */
export type RateBucket = "publish" | "control";

/** Limits counted beyond this process: the cluster primary's count for the whole machine. */
export interface SharedLimits {
  /** Resolves with the release of the stream's place (idempotent); rejects 429/503 at a limit. */
  acquireStream(ip: string): Promise<() => void>;
  /**
   * Takes `count` publish tokens for `key` (all or nothing): undefined when they could be taken at
   * once, else a promise that resolves when they were, or rejects 429 when the bucket holds fewer
   * (giving back `refund` tokens the request took before: `RateLimiter.take`).
   */
  takePublish(key: string, count?: number, refund?: number): Promise<void> | undefined;
  /**
   * Gives back `count` publish tokens `key` took before (a batch's first, the gate's, when this
   * process's count refused the rest before the machine's was asked). No answer; never above the
   * bucket's size.
   */
  giveBackPublish(key: string, count: number): void;
  /** Takes one control token for `key`, as `takePublish` takes one publish token (429 when none is left). */
  takeControl(key: string): Promise<void> | undefined;
}

/**
 * The stream limits (total, per IP), the publish rate limit (per token, or per IP when anonymous)
 * that both APIs (Herald's and Mercure's) apply, and the control rate (per token subject, or per
 * IP). Counted in this process; with `--workers N` also by the primary for the whole machine
 * (cluster/limits.ts), so a configured limit means the same with one process or many. This process's count is never above
 * the machine's, so it refuses only what the machine would refuse too.
 */
export class Limits {
  constructor(
    readonly streams: ConnectionLimiter,
    readonly publishRate: RateLimiter,
    readonly controlRate: RateLimiter,
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
   * A publish by `key` takes a token per event (429 with Retry-After when fewer are left; all or
   * nothing). Throws at once for this process's count; returns a promise only when the machine's
   * count is asked too. `refund`: tokens the request took before (a batch's first), given back to
   * both counts when either refuses (a refused batch costs nothing: `RateLimiter.take`).
   */
  takePublish(key: string, count = 1, refund = 0): Promise<void> | undefined {
    try {
      this.publishRate.take(key, count, refund);
    } catch (error) {
      // this process's count gave the refund back to itself; the machine's count took it too
      if (refund > 0) this.shared?.giveBackPublish(key, refund);
      throw error;
    }
    const shared = this.shared?.takePublish(key, count, refund);
    if (shared === undefined) return undefined;
    // refused by the machine's count: this process's count gives back what it took, and the refund
    return shared.catch((error: unknown) => {
      this.publishRate.giveBack(key, count + refund);
      throw error;
    });
  }

  /**
   * A request that appends a control record (`Access.chargeControl`) takes a control token from
   * `key`'s bucket: 429 with Retry-After when none is left. Like `takePublish`: throws at once for
   * this process's count; a promise only when the machine's count is asked too.
   */
  takeControl(key: string): Promise<void> | undefined {
    this.controlRate.take(key);
    const shared = this.shared?.takeControl(key);
    if (shared === undefined) return undefined;
    return shared.catch((error: unknown) => {
      this.controlRate.giveBack(key, 1);
      throw error;
    });
  }

  /**
   * A batch of `events` counts as that many publishes. Its request already took one (the gate,
   * before the body was read): this takes the rest, all or nothing: when fewer are left, 429 with
   * Retry-After and the gate's one is given back (a refused batch costs nothing). A batch larger
   * than the bucket (HERALD_PUBLISH_BURST) could never pass: 413 saying how to split it.
   */
  takeBatch(key: string, events: number): Promise<void> | undefined {
    const burst = this.publishRate.burst;
    if (events > burst) {
      throw new HeraldError(
        "payload_too_large",
        `this batch holds ${events} events; each counts as a publish, and HERALD_PUBLISH_BURST (${burst}) allows at most that many at once: split it into batches of at most ${burst} events`,
      );
    }
    return events > 1 ? this.takePublish(key, events - 1, 1) : undefined;
  }
}
