import { HeraldError } from "../core/errors.ts";

/** Reconnect pacing and the broker-down error, shared by the Redis and RabbitMQ buses. */

/** Sleeps `ms` (unref'd: never keeps the process alive). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Exponential backoff with jitter, 100 ms doubling to 5 s. */
export function backoffMs(attempt: number): number {
  const base = Math.min(5000, 100 * 2 ** Math.min(attempt, 6));
  return base / 2 + Math.random() * (base / 2);
}

export function unavailable(what: string, cause?: unknown): HeraldError {
  return new HeraldError(
    "unavailable",
    `${what}: the bus broker is unreachable; nothing was stored, retry after a moment`,
    { cause, retryAfterSeconds: 2 },
  );
}

/** A publish that reached a bus after it began to close (Herald is stopping): 503 with Retry-After. */
export function busClosing(): HeraldError {
  return new HeraldError("unavailable", "the hub is shutting down; publish to another node", {
    retryAfterSeconds: 1,
  });
}
