import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AppendResult, Bus, BusGap, ReplayResult } from "../../packages/herald/src/core/bus.ts";
import type { HeraldEvent, PublishInput } from "../../packages/herald/src/core/event.ts";
import { Hub } from "../../packages/herald/src/core/hub.ts";
import { storeEvent } from "../../packages/herald/src/core/stored-event.ts";
import { parseSelector } from "../../packages/herald/src/core/topic.ts";
import { TextSink as BaseTextSink } from "../helpers/text-sink.ts";

/**
 * The hub's side of a bus gap (src/core/hub.ts): every stream is told, in place. A scripted bus
 * (positions 10 apart, so a gap fits between two events; replays answered when the test says).
 */
class ScriptedBus implements Bus {
  private listener: ((events: readonly HeraldEvent[]) => void) | undefined;
  onGap: ((gap: BusGap) => void) | undefined;
  private readonly events: HeraldEvent[] = [];
  private pos = 0;
  /** Replays are computed when asked, and answered once this resolves. */
  gate: Promise<void> = Promise.resolve();

  async start(
    listener: (events: readonly HeraldEvent[]) => void,
    _onLost?: () => void,
    onGap?: (gap: BusGap) => void,
  ): Promise<void> {
    this.listener = listener;
    this.onGap = onGap;
  }

  async append(inputs: readonly PublishInput[]): Promise<AppendResult[]> {
    const stored = inputs.map((input) => {
      this.pos += 10;
      return storeEvent(input, this.pos, `ep-${this.pos}`, 0);
    });
    this.events.push(...stored);
    this.listener?.(stored);
    return stored.map((event) => ({ event, duplicate: false }));
  }

  async replay(lastEventId: string): Promise<ReplayResult> {
    const after = Number(lastEventId.slice(3));
    const events = this.events.filter((e) => e.pos > after);
    await this.gate;
    return { kind: "events", events, after };
  }

  status() {
    return { ready: true };
  }
  historySize() {
    return this.events.length;
  }
  async close() {}
}

class TextSink extends BaseTextSink {
  /** Each event as `<type or message>:<data>`, in order. */
  seen(): string[] {
    return this.text
      .split("\n\n")
      .filter((block) => block.includes("data:"))
      .map((block) => {
        const type = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        return `${type}:${/^data: (.*)$/m.exec(block)?.[1]}`;
      });
  }
}

describe("hub: a gap reported by the bus", () => {
  it("every stream gets herald.missed (gap) between the events before and after it, replaying ones too", async () => {
    const bus = new ScriptedBus();
    const hub = new Hub({ bus, replayLimit: 100, maxPendingBytes: 1 << 20 });
    await hub.start();
    const live = new TextSink();
    await hub.subscribe({ selectors: [parseSelector("t")], sink: live });
    await hub.publish([
      { topics: ["t"], data: "a" },
      { topics: ["t"], data: "b" },
    ]);
    // a client resuming after "a", whose replay is answered only after the gap
    let open = () => {};
    bus.gate = new Promise((resolve) => {
      open = resolve;
    });
    const replaying = new TextSink();
    const subscribed = hub.subscribe({
      selectors: [parseSelector("t")],
      sink: replaying,
      lastEventId: "ep-10",
    });
    await hub.publish([{ topics: ["t"], data: "c" }]);
    bus.onGap?.({ pos: 35, after: "ep-30", resumeId: "ep-35", count: 2 });
    await hub.publish([{ topics: ["t"], data: "d" }]);
    open();
    await subscribed;
    const missed = 'herald.missed:{"lastEventId":"ep-30","reason":"gap","missed":2}';
    assert.deepEqual(live.seen(), ["message:a", "message:b", "message:c", missed, "message:d"]);
    assert.deepEqual(replaying.seen(), ["message:b", "message:c", missed, "message:d"]);
    assert.match(live.text, /id: ep-35\nevent: herald.missed\n/, "its id is where the stream resumes");
    assert.equal(hub.counters.missedSignals, 2);
  });
});
