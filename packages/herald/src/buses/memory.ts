import { randomBytes } from "node:crypto";
import type { AppendResult, Bus, BusStatus, ReplayResult, Visible } from "../core/bus.ts";
import type { HeraldEvent, PublishInput } from "../core/event.ts";
import { History, type HistoryOptions } from "../core/history.ts";
import { formatHubId, parseHubId, refuseHubIds } from "../core/ids.ts";
import { replayHistory } from "../core/log-replay.ts";
import { storeEvent } from "../core/stored-event.ts";
import { busClosing } from "./retry.ts";

export interface MemoryBusOptions {
  readonly history: HistoryOptions;
  /** The log's epoch; a new random one per process by default, so ids from before a restart are recognised as lost. */
  readonly epoch?: string;
}

/**
 * The embedded bus: one process, history in memory. `append` is synchronous underneath: the
 * listener sees the events before `append` resolves, so a publish answer always comes after local
 * delivery. History does not survive a restart (the epoch changes, so old ids report `epoch-changed`).
 */
export class MemoryBus implements Bus {
  readonly epoch: string;
  private readonly history: History;
  private headPos = 0;
  private listener: ((events: readonly HeraldEvent[]) => void) | undefined;
  private closed = false;
  private readonly now: () => number;

  constructor(options: MemoryBusOptions) {
    this.epoch = options.epoch ?? randomBytes(5).toString("hex");
    this.history = new History(options.history);
    this.now = options.history.now ?? Date.now;
  }

  async start(listener: (events: readonly HeraldEvent[]) => void): Promise<void> {
    this.listener = listener;
  }

  currentEpoch(): string {
    return this.epoch;
  }

  async append(inputs: readonly PublishInput[]): Promise<AppendResult[]> {
    if (this.closed) throw busClosing();
    refuseHubIds(inputs, this.epoch);
    const results: AppendResult[] = [];
    const stored: HeraldEvent[] = [];
    const time = this.now();
    for (const input of inputs) {
      const held = this.history.retryOf(input);
      if (held !== undefined) {
        results.push({ event: held, duplicate: true });
        continue;
      }
      const pos = ++this.headPos;
      const id = input.id ?? formatHubId(this.epoch, pos);
      const event = storeEvent(input, pos, id, time);
      this.history.add(event, input.id !== undefined);
      stored.push(event);
      results.push({ event, duplicate: false });
    }
    if (stored.length > 0) this.listener?.(stored);
    return results;
  }

  async replay(lastEventId: string, limit: number, visible?: Visible, seen?: Visible): Promise<ReplayResult> {
    const head = { epoch: this.epoch, headPos: this.headPos };
    return replayHistory(this.history, head, lastEventId, limit, visible, seen);
  }

  /**
   * The held events carrying `id`, oldest first, one per distinct (topics, private): what a remote
   * replay needs to apply its subscriber's `Visible` (the cluster primary sends them to workers).
   */
  carrying(id: string): readonly HeraldEvent[] {
    if (parseHubId(id)?.epoch === this.epoch) return []; // a position: no publisher id has this form
    return distinctReaders(this.history.carrying(id));
  }

  /**
   * The stubs of the events carrying `id` that left the history (`History.forgottenStubs`), oldest
   * first, one per distinct (topics, private): what a remote replay needs to judge, with its
   * subscriber's `seen`, whether the subscriber could have seen one of them.
   */
  forgotten(id: string): readonly HeraldEvent[] {
    if (parseHubId(id)?.epoch === this.epoch) return [];
    return distinctReaders(this.history.forgottenStubs(id));
  }

  status(): BusStatus {
    return this.closed ? { ready: false, reason: "closed" } : { ready: true };
  }

  historySize(): number {
    return this.history.size;
  }

  /** `<epoch>-<pos>` of the newest event: the listener has it already (it is called inside `append`). */
  headId(): string {
    return formatHubId(this.epoch, this.headPos);
  }

  /** The listener is called inside `append`: never behind. */
  lagSeconds(): number {
    return 0;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** The first of `events` per distinct (topics, private): what a `Visible` tells apart. */
function distinctReaders(events: readonly HeraldEvent[]): HeraldEvent[] {
  const seen = new Set<string>();
  return events.filter((event) => {
    const key = JSON.stringify([event.topics, event.private]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
