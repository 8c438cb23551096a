import { HeraldError } from "../core/errors.ts";

export interface ConnectionLimits {
  /** Most open streams on this node (HERALD_MAX_CONNECTIONS). */
  readonly total: number;
  /** Most open streams from one client IP (HERALD_MAX_CONNECTIONS_PER_IP). */
  readonly perIp: number;
}

/**
 * Counts open event streams, in total and per client IP. `acquire` throws before a stream opens
 * when a limit is reached: 503 `unavailable` for the total (another node may have room), 429
 * `too_many_requests` for one IP; both with Retry-After. The returned release is idempotent and must
 * run when the stream ends; an IP's entry is removed when its count reaches 0 (no growth over time).
 */
export class ConnectionLimiter {
  private total = 0;
  private readonly perIp = new Map<string, number>();

  constructor(private readonly limits: ConnectionLimits) {}

  get open(): number {
    return this.total;
  }

  /** IPs with at least one open stream (for leak checks). */
  get trackedIps(): number {
    return this.perIp.size;
  }

  acquire(ip: string): () => void {
    if (this.total >= this.limits.total) {
      throw new HeraldError(
        "unavailable",
        `this node has reached its limit of ${this.limits.total} open streams (HERALD_MAX_CONNECTIONS); retry later or on another node`,
        { retryAfterSeconds: 5 },
      );
    }
    const mine = this.perIp.get(ip) ?? 0;
    if (mine >= this.limits.perIp) {
      throw new HeraldError(
        "too_many_requests",
        `too many open streams from your address (limit ${this.limits.perIp}, HERALD_MAX_CONNECTIONS_PER_IP); close some, or subscribe to several topics in one stream`,
        { retryAfterSeconds: 5 },
      );
    }
    this.total++;
    this.perIp.set(ip, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, left);
    };
  }
}
