import { HeraldError } from "../core/errors.ts";

/**
 * Requests in flight and the stop of a server: once `stop` began, new streams and publishes are
 * refused (503 with Retry-After, `refuseWhenStopping`) and `stop` waits for the work `track`ed
 * before (publishes being received), at most `timeoutMs`. Streams are not tracked: they stay open
 * until Herald's `close` ends them.
 */
export class InFlight {
  private stopping = false;
  private readonly work = new Set<Promise<void>>();

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Throws `unavailable` (503, Retry-After: 1) once `stop` began. */
  readonly refuseWhenStopping = (): void => {
    if (this.stopping) {
      throw new HeraldError("unavailable", "Herald is shutting down; retry against another node", {
        retryAfterSeconds: 1,
      });
    }
  };

  /** Runs `work` as in-flight work (`stop` waits for it); refused once `stop` began. */
  readonly track = (work: () => Promise<void>): Promise<void> => {
    this.refuseWhenStopping();
    const promise = work();
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    this.work.add(settled);
    void settled.finally(() => this.work.delete(settled));
    return promise;
  };

  /** Refuses new work from now on; resolves once the work in flight settled, or after `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([Promise.all(this.work), deadline]);
  }
}
