import { HeraldError } from "../core/errors.ts";

/**
 * Requests in flight and the stop of a server: once `stop` began, new streams and publishes are
 * refused (503 with Retry-After, `refuseWhenStopping`) and `stop` waits for the work `track`ed
 * before (publishes being received), at most `timeoutMs`. Streams are not tracked: they stay open
 * until Herald's `close` ends them.
 */
export class InFlight {
  private stopping = false;
  /** Work `track`ed and not settled yet. A count, not a set of promises: `track` is on the publish hot path. */
  private active = 0;
  /** `stop`'s wait for `active` to reach 0. */
  private drained: Promise<void> | undefined;
  private resolveDrained: (() => void) | undefined;

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
    this.active++;
    // one reaction, shared by every request: no closure, no promise of its own to wait on
    promise.then(this.settled, this.settled);
    return promise;
  };

  private readonly settled = (): void => {
    if (--this.active === 0 && this.resolveDrained !== undefined) this.resolveDrained();
  };

  /** Refuses new work from now on; resolves once the work in flight settled, or after `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    if (this.active === 0) return;
    this.drained ??= new Promise<void>((resolve) => {
      this.resolveDrained = resolve;
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs).unref();
    });
    await Promise.race([this.drained, deadline]);
    clearTimeout(timer);
  }
}
