import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MemoryBus } from "../../packages/herald/src/buses/memory.ts";
import { defaultsWith } from "../../packages/herald/src/config/settings.ts";
import type {
  AppendResult,
  Bus,
  BusStatus,
  ReplayResult,
  Visible,
} from "../../packages/herald/src/core/bus.ts";
import type { HeraldEvent, PublishInput } from "../../packages/herald/src/core/event.ts";
import type { Herald } from "../../packages/herald/src/herald.ts";
import { startHerald } from "../../packages/herald/src/herald.ts";
import { createLogger } from "../../packages/herald/src/ops/logger.ts";
import { publish, RawStream } from "../helpers/herald.ts";
import { bearer, heraldToken, TEST_SECRET } from "../helpers/tokens.ts";

/**
 * Several nodes over one log, in one process: each node's Bus is a view of one MemoryBus, whose
 * stored events reach every node's listener. Enough to show that the private flag travels with the
 * event to other nodes; the Redis and RabbitMQ buses run the same checks against real brokers.
 */
class SharedLog {
  readonly log = new MemoryBus({ history: { maxEvents: 1000, maxAgeMs: 0 } });
  private readonly listeners = new Set<(events: readonly HeraldEvent[]) => void>();
  private started = false;
  async node(): Promise<Bus> {
    if (!this.started) {
      this.started = true;
      await this.log.start((events) => {
        for (const listener of this.listeners) listener(events);
      });
    }
    const log = this.log;
    const listeners = this.listeners;
    let mine: ((events: readonly HeraldEvent[]) => void) | undefined;
    return {
      async start(listener) {
        mine = listener;
        listeners.add(listener);
      },
      append: (inputs: readonly PublishInput[]): Promise<AppendResult[]> => log.append(inputs),
      replay: (id: string, limit: number, visible?: Visible): Promise<ReplayResult> =>
        log.replay(id, limit, visible),
      status: (): BusStatus => log.status(),
      historySize: () => log.historySize(),
      async close() {
        if (mine !== undefined) listeners.delete(mine);
      },
    };
  }
}

describe("private events on other nodes", () => {
  const shared = new SharedLog();
  const nodes: Herald[] = [];
  before(async () => {
    for (const privateTopics of [["vault/*"], []]) {
      // Node 2 does not list vault/* itself: the flag set by node 1 at publish time is what counts.
      const config = defaultsWith({
        port: 0,
        host: "127.0.0.1",
        logLevel: "silent",
        jwtSecret: TEST_SECRET,
        allowAnonymousPublish: true,
        privateTopics,
      });
      nodes.push(await startHerald(config, { log: createLogger("silent"), bus: await shared.node() }));
    }
  });
  after(async () => {
    for (const node of nodes) await node.close();
  });

  it("reach only allowed subscribers of every node, live and replayed", async () => {
    const [one, two] = nodes as [Herald, Herald];
    const allowed = bearer(await heraldToken({ subscribe: ["vault/*", "orders/*"] }));
    const other = bearer(await heraldToken({ subscribe: ["billing"] }));
    const query = "/events?topic=vault/a&topic=orders/1";
    const streams = {
      anonymousTwo: new RawStream(`${two.url}${query}`),
      otherTwo: new RawStream(`${two.url}${query}`, other),
      allowedTwo: new RawStream(`${two.url}${query}`, allowed),
      allowedOne: new RawStream(`${one.url}${query}`, allowed),
    };
    for (const stream of Object.values(streams)) await stream.opened();
    assert.equal((await publish(one.url, { topic: "orders/1", data: "p0", id: "p0" })).status, 200);
    assert.equal((await publish(one.url, { topic: "vault/a", data: "x1", id: "x1" })).status, 200);
    assert.equal(
      (await publish(one.url, { topic: "orders/1", data: "x2", id: "x2", private: true })).status,
      200,
    );
    assert.equal((await publish(two.url, { topic: "orders/1", data: "p1", id: "p1" })).status, 200);
    for (const stream of Object.values(streams)) await stream.until(() => stream.ids().includes("p1"));
    assert.deepEqual(streams.anonymousTwo.ids(), ["p0", "p1"]);
    assert.deepEqual(streams.otherTwo.ids(), ["p0", "p1"]);
    assert.deepEqual(streams.allowedTwo.ids(), ["p0", "x1", "x2", "p1"]);
    assert.deepEqual(streams.allowedOne.ids(), ["p0", "x1", "x2", "p1"]);
    for (const stream of Object.values(streams)) stream.close();

    const replayAnonymous = new RawStream(`${two.url}${query}`, { "last-event-id": "p0" });
    const replayAllowed = new RawStream(`${two.url}${query}`, { ...allowed, "last-event-id": "p0" });
    for (const stream of [replayAnonymous, replayAllowed])
      await stream.until(() => stream.ids().includes("p1"));
    assert.deepEqual(replayAnonymous.ids(), ["p1"]);
    assert.deepEqual(replayAllowed.ids(), ["x1", "x2", "p1"]);
    replayAnonymous.close();
    replayAllowed.close();
  });
});
