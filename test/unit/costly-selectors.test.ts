import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MemoryBus } from "../../packages/herald/src/buses/memory.ts";
import { Hub } from "../../packages/herald/src/core/hub.ts";
import { parseSelector, type TopicSelector } from "../../packages/herald/src/core/topic.ts";
import { MercureSelectors } from "../../packages/herald/src/mercure/selectors.ts";
import { TextSink } from "../helpers/text-sink.ts";

// Issue 11 / 15: a subscriber's matchers must not hold the event loop, however many and however
// costly (a Mercure URL pattern check costs ~100-250x a URI template's DFA walk). The hub counts
// each check at the cost the matcher declares and yields (`defer`) between steps of bounded work,
// on the live fan-out (even among the checks of one anchor) and on replays.

/** A hub whose turns (its `defer` calls) run only when the test says so. */
function manualHub() {
  const bus = new MemoryBus({ history: { maxEvents: 10_000, maxAgeMs: 0 } });
  const turns: (() => void)[] = [];
  const hub = new Hub({ bus, replayLimit: 10_000, maxPendingBytes: 1 << 24, defer: (f) => turns.push(f) });
  const endTurn = (): number => {
    const pending = turns.splice(0);
    for (const f of pending) f();
    return pending.length;
  };
  return { hub, endTurn, turns };
}

/** A matcher as costly as a hostile URL pattern (declared), that never matches. */
const costly = (n: number): TopicSelector => ({
  kind: "match",
  source: `hostile-${n}`,
  test: () => false,
  cost: 200,
});

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("costly matchers and the event loop", () => {
  it("the live fan-out splits the checks of many costly matchers of one anchor across turns", async () => {
    const { hub, endTurn } = manualHub();
    await hub.start();
    // 2,000 distinct costly matchers with no literal start (all in the root anchor) x 200 units:
    // 400,000 units, four times the default step budget, for one event topic.
    for (let s = 0; s < 100; s++) {
      const selectors = Array.from({ length: 20 }, (_, i) => costly(s * 20 + i));
      await hub.subscribe({ selectors, sink: new TextSink() });
    }
    const wanted = new TextSink();
    await hub.subscribe({ selectors: [parseSelector("t/*")], sink: wanted });
    let answered = false;
    const publishing = hub.publish([{ topics: ["t/1"], data: "x" }]).then((r) => {
      answered = true;
      return r;
    });
    await settle();
    endTurn();
    await settle();
    assert.equal(answered, false, "one turn checked every costly matcher at once");
    let turns = 1;
    while (!answered && turns < 100) {
      endTurn();
      await settle();
      turns++;
    }
    const [result] = await publishing;
    assert.ok(turns >= 4, `the checks took ${turns} turns`);
    assert.deepEqual(wanted.ids(), [result?.id]);
  });

  it("a replay over costly matchers yields between steps and still sends every match once, in order", async () => {
    const { hub, endTurn, turns } = manualHub();
    await hub.start();
    const ids: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const publishing = hub.publish([{ topics: [i % 100 === 0 ? "wanted" : `other/${i}`], data: `${i}` }]);
      await settle();
      endTurn();
      const [result] = await publishing;
      if (i % 100 === 0) ids.push(result?.id as string);
    }
    // 2,000 events x 32 matchers x 200 units: about 13 steps of the default budget
    const selectors = [...Array.from({ length: 31 }, (_, i) => costly(i)), parseSelector("wanted")];
    const sink = new TextSink();
    let done = false;
    const subscribing = hub.subscribe({ selectors, sink, lastEventId: "earliest" }).then(() => {
      done = true;
    });
    await settle();
    await settle();
    assert.equal(done, false, "the whole replay ran in one turn");
    assert.ok(turns.length > 0, "the replay did not yield through defer");
    let n = 0;
    while (!done && n < 1000) {
      endTurn();
      await settle();
      n++;
    }
    await subscribing;
    assert.ok(n >= 5, `the replay took ${n} turns`);
    assert.deepEqual(sink.ids(), ids);
  });

  it("concurrent replays share one step of work per turn", async () => {
    const { hub, endTurn } = manualHub();
    await hub.start();
    for (let i = 0; i < 1000; i++) {
      const publishing = hub.publish([{ topics: [`other/${i}`], data: `${i}` }]);
      await settle();
      endTurn();
      await publishing;
    }
    const selectors = Array.from({ length: 32 }, (_, i) => costly(i));
    const replayTurns = async (replays: number): Promise<number> => {
      let done = 0;
      const all = Array.from({ length: replays }, () =>
        hub.subscribe({ selectors, sink: new TextSink(), lastEventId: "earliest" }).then(() => {
          done++;
        }),
      );
      let n = 0;
      while (done < replays && n < 1000) {
        await settle();
        endTurn();
        n++;
      }
      await Promise.all(all);
      return n;
    };
    const one = await replayTurns(1);
    const four = await replayTurns(4);
    assert.ok(one >= 4, `one replay took ${one} turns`);
    assert.ok(four >= 3 * one, `four replays took ${four} turns, one took ${one}: each had a step per turn`);
  });

  it("a subscriber's URL pattern declares what a check costs", () => {
    const selectors = new MercureSelectors({ maxTopicLength: 256, maxStates: 256, cacheBytes: 1 << 20 });
    const selector = selectors.parseUrlPattern({
      type: "urlpattern",
      pattern: "https://example.com/:x((?:a+)+b)",
      base: "http://localhost/.well-known/mercure",
    });
    assert.equal(selector.kind, "match");
    assert.ok(
      selector.kind === "match" && (selector.cost ?? 1) >= 100,
      "a URL pattern check is counted as one unit",
    );
  });
});
