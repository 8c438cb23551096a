import type { BusLog } from "./log-bus.ts";

/**
 * A bus broker's outages in the log, for an operator's collector (GET /readyz says the same to
 * whoever polls it). One line each way per outage:
 * - `unreachable(reason)`: a warn with the reason (which broker, where, why) and that Herald keeps
 *   trying, the first time only; the errors of every further retry log nothing;
 * - `reachable()`: an info that the broker is back, only after an outage was logged (a broker up
 *   at start logs nothing here).
 * Never holds a password: `reason` is the bus's own text for /readyz.
 */
export class OutageLog {
  private down = false;

  constructor(
    private readonly log: BusLog,
    /** Names the broker and where it is, e.g. "Redis at 127.0.0.1:6379" (no credentials). */
    private readonly broker: string,
    /** Fields on both lines, e.g. `{ redis: "127.0.0.1:6379" }`. */
    private readonly fields: object,
  ) {}

  unreachable(reason: string): void {
    if (this.down) return;
    this.down = true;
    this.log.warn(
      this.fields,
      `${reason}; Herald keeps trying (publishes get 503 and /readyz answers 503 until it is back)`,
    );
  }

  reachable(): void {
    if (!this.down) return;
    this.down = false;
    this.log.info(this.fields, `${this.broker} is reachable again`);
  }
}
