import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MemoryBus } from "../../packages/herald/src/buses/memory.ts";
import { defaultsWith } from "../../packages/herald/src/config/settings.ts";
import type { Bus } from "../../packages/herald/src/core/bus.ts";
import type { HeraldEvent } from "../../packages/herald/src/core/event.ts";
import { type Herald, startHerald } from "../../packages/herald/src/herald.ts";
import { createLogger } from "../../packages/herald/src/ops/logger.ts";
import { listen, type MercureListener, mercureToken, published, SECRET } from "./helpers.ts";

/**
 * Two Herald nodes over one log, in one process (the technique of test/auth/private-nodes.test.ts):
 * each node's Bus is a view of one MemoryBus whose stored events reach every node. The Redis and
 * RabbitMQ buses keep the same Bus contract across processes.
 */
async function sharedLogNodes(count: number): Promise<Herald[]> {
  const log = new MemoryBus({ history: { maxEvents: 1000, maxAgeMs: 0 } });
  const listeners = new Set<(events: readonly HeraldEvent[]) => void>();
  await log.start((events) => {
    for (const listener of listeners) listener(events);
  });
  const view = (): Bus => {
    let mine: ((events: readonly HeraldEvent[]) => void) | undefined;
    return {
      async start(listener) {
        mine = listener;
        listeners.add(listener);
      },
      append: (inputs) => log.append(inputs),
      replay: (id, limit, visible) => log.replay(id, limit, visible),
      status: () => log.status(),
      historySize: () => log.historySize(),
      async close() {
        if (mine !== undefined) listeners.delete(mine);
      },
    };
  };
  const nodes: Herald[] = [];
  for (let i = 0; i < count; i++) {
    const config = defaultsWith({
      port: 0,
      host: "127.0.0.1",
      logLevel: "silent",
      mercureJwtKey: SECRET,
      mercureAnonymous: true,
      mercureSubscriptions: true,
      mercureProtocolCompatibility: 8,
    });
    nodes.push(await startHerald(config, { log: createLogger("silent"), bus: view() }));
  }
  return nodes;
}

describe("Mercure across two nodes sharing one log", () => {
  let nodes: Herald[];
  const listeners: MercureListener[] = [];

  before(async () => {
    nodes = await sharedLogNodes(2);
  });
  after(async () => {
    for (const listener of listeners) listener.close();
    for (const node of nodes) await node.close();
  });

  it("delivers updates, private ones and subscription events to the other node, and resumes there", async () => {
    const [one, two] = nodes as [Herald, Herald];
    const publisher = await mercureToken({ publish: ["*"] });
    const reader = await mercureToken({ subscribe: ["https://example.com/books/{id}"] });
    const watcher = await mercureToken({
      subscribe: ["/.well-known/mercure/subscriptions{/topic}{/subscriber}"],
    });
    const books = [["topic", "https://example.com/books/{id}"]] as [string, string][];

    const anonymousOnTwo = await listen(two.url, books);
    const readerOnTwo = await listen(two.url, books, { headers: { authorization: `Bearer ${reader}` } });
    const watcherOnTwo = await listen(
      two.url,
      [["topic", "/.well-known/mercure/subscriptions{/topic}{/subscriber}"]],
      {
        headers: { authorization: `Bearer ${watcher}` },
      },
    );
    listeners.push(anonymousOnTwo, readerOnTwo, watcherOnTwo);

    // A subscriber joins node one: node two's watcher hears of it.
    const onOne = await listen(one.url, [["topic", "https://example.com/authors/{id}"]]);
    listeners.push(onOne);
    await watcherOnTwo.until(() =>
      watcherOnTwo.events.some((e) => JSON.parse(e.data).topic === "https://example.com/authors/{id}"),
    );

    const first = await published(one.url, publisher, [
      ["topic", "https://example.com/books/1"],
      ["data", "public 1"],
    ]);
    await published(one.url, publisher, [
      ["topic", "https://example.com/books/2"],
      ["data", "private 2"],
      ["private", "on"],
    ]);
    await published(one.url, publisher, [
      ["topic", "https://example.com/books/3"],
      ["data", "public 3"],
    ]);
    await readerOnTwo.receives("public 3");
    await anonymousOnTwo.receives("public 3");
    assert.deepEqual(readerOnTwo.data, ["public 1", "private 2", "public 3"]);
    assert.deepEqual(anonymousOnTwo.data, ["public 1", "public 3"]);

    // Resume on node two from an id node one made.
    const resumed = await listen(two.url, [...books, ["lastEventID", first]], {
      headers: { authorization: `Bearer ${reader}` },
    });
    listeners.push(resumed);
    await resumed.receives("public 3");
    assert.deepEqual(resumed.data, ["private 2", "public 3"]);
    assert.equal(resumed.headers?.get("last-event-id"), first);
  });
});
