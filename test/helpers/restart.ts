import { MemoryBus } from "../../packages/herald/src/buses/memory.ts";
import { defaultsWith, type HeraldConfig } from "../../packages/herald/src/config/settings.ts";
import type {
  AppendResult,
  Bus,
  BusStatus,
  ReplayResult,
  Visible,
} from "../../packages/herald/src/core/bus.ts";
import type { HeraldEvent, PublishInput } from "../../packages/herald/src/core/event.ts";
import { type Herald, startHerald } from "../../packages/herald/src/herald.ts";
import { createLogger } from "../../packages/herald/src/ops/logger.ts";

/**
 * A bus whose history outlives the Herald using it: `close()` only detaches, so the next Herald
 * started on it replays what the previous one stored (as a hub with a shared, durable log would).
 */
export class SurvivingBus implements Bus {
  readonly inner: MemoryBus;
  private listener: ((events: readonly HeraldEvent[]) => void) | undefined;

  constructor(inner = new MemoryBus({ history: { maxEvents: 10_000, maxAgeMs: 0 } })) {
    this.inner = inner;
    void inner.start((events) => this.listener?.(events));
  }

  async start(listener: (events: readonly HeraldEvent[]) => void): Promise<void> {
    this.listener = listener;
  }

  append(inputs: readonly PublishInput[]): Promise<AppendResult[]> {
    return this.inner.append(inputs);
  }

  replay(lastEventId: string, limit: number, visible?: Visible, seen?: Visible): Promise<ReplayResult> {
    return this.inner.replay(lastEventId, limit, visible, seen);
  }

  status(): BusStatus {
    return this.inner.status();
  }

  headId(): string | undefined {
    return this.inner.headId();
  }

  historySize(): number {
    return this.inner.historySize();
  }

  async close(): Promise<void> {
    this.listener = undefined;
  }
}

/** Starts Herald on a given port (0 = any) with quiet logs and, optionally, a given bus. */
export function startHeraldOn(
  port: number,
  bus?: Bus,
  overrides: Partial<HeraldConfig> = {},
): Promise<Herald> {
  // as startTestHerald: anonymous publishing on, publish rate and per-IP limits out of the way
  const config = defaultsWith({
    port,
    host: "127.0.0.1",
    logLevel: "silent",
    allowAnonymousPublish: true,
    publishRate: 1_000_000,
    publishBurst: 1_000_000,
    controlRate: 1_000_000,
    controlBurst: 1_000_000,
    maxConnectionsPerIp: 1_000_000,
    ...overrides,
  });
  return startHerald(config, { log: createLogger("silent"), bus });
}

export function portOf(herald: Herald): number {
  return Number(new URL(herald.url).port);
}

/**
 * For a suite: `closeLater(fn)` registers a closer, `start(...)` starts Herald (startHeraldOn) and
 * registers its close. Call inside `describe`: an `after` hook runs the closers, last first, even
 * when a test failed.
 */
export function closersForSuite(after: (fn: () => Promise<void>) => void) {
  const stops: (() => unknown)[] = [];
  after(async () => {
    for (const stop of stops.reverse()) await stop();
  });
  const closeLater = (stop: () => unknown) => stops.push(stop);
  const start = async (...args: Parameters<typeof startHeraldOn>): Promise<Herald> => {
    const herald = await startHeraldOn(...args);
    closeLater(() => herald.close());
    return herald;
  };
  return { closeLater, start };
}
