import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Bus, type BusGap, EARLIEST } from "../packages/herald/src/core/bus.ts";
import type { HeraldEvent, PublishInput } from "../packages/herald/src/core/event.ts";
import { parseHubId } from "../packages/herald/src/core/ids.ts";
import { mayRead } from "../packages/herald/src/core/subscriber.ts";
import { parseSelector } from "../packages/herald/src/core/topic.ts";
import { until } from "./helpers/waiters.ts";

/**
 * What a test needs from one bus implementation. `open` makes a node's bus on a log named `log`
 * (same name = same shared log; a fresh name = a fresh log).
 */
export interface BusFixture {
  open(log: string, options?: { maxEvents?: number; maxBytes?: number; smallRetention?: boolean }): Bus;
  /** True when two `open`s of one log share it (a broker); false for the embedded bus. */
  readonly shared: boolean;
  /** Makes the log lost (flush / delete), for the epoch test; only when `shared`. */
  lose?(log: string): Promise<void>;
  /**
   * Makes the broker store events on `log` and drop them before the node of `bus` (opened with
   * `smallRetention`) reads them, as a retention cap or a producer's trim would; only for a bus that
   * can lose a stored event (a broker's log).
   */
  loseUnread?(log: string, bus: Bus): Promise<void>;
  close(): Promise<void>;
}

/** A bus started with a listener that records what it delivers. */
export class Tail {
  readonly events: HeraldEvent[] = [];
  /** The gaps reported, each with the number of events delivered before it. */
  readonly gaps: { gap: BusGap; at: number }[] = [];
  lost = 0;
  constructor(readonly bus: Bus) {}

  async start(): Promise<this> {
    await this.bus.start(
      (events) => this.events.push(...events),
      () => this.lost++,
      (gap) => this.gaps.push({ gap, at: this.events.length }),
    );
    await until(() => this.bus.status().ready, "bus ready");
    return this;
  }

  ids(): string[] {
    return this.events.map((e) => e.id);
  }

  has(n: number): Promise<void> {
    return until(() => this.events.length >= n, `${n} events (have ${this.events.length})`);
  }
}

const ev = (data: string, extra: Partial<PublishInput> = {}): PublishInput => ({
  topics: ["t"],
  data,
  ...extra,
});

let logCounter = 0;
const freshLog = () => `c${process.pid}x${++logCounter}x${Date.now().toString(36)}`;

/** The Bus contract (src/core/bus.ts), run unchanged against every implementation. */
export function runBusContract(
  name: string,
  makeFixture: () => Promise<BusFixture>,
  options: { skip?: string | false } = {},
): void {
  describe(`Bus contract: ${name}`, { skip: options.skip ?? false }, () => {
    let fixture: BusFixture;
    const buses: Bus[] = [];
    const open = (
      log: string,
      opts?: { maxEvents?: number; maxBytes?: number; smallRetention?: boolean },
    ) => {
      const bus = fixture.open(log, opts);
      buses.push(bus);
      return bus;
    };
    before(async () => {
      fixture = await makeFixture();
    });
    after(async () => {
      for (const bus of buses) await bus.close();
      await fixture?.close();
    });

    it("stores in order, with increasing positions, and delivers each event once", async () => {
      const tail = await new Tail(open(freshLog())).start();
      const results = await tail.bus.append([ev("a"), ev("b")]);
      const more = await tail.bus.append([ev("c")]);
      await tail.has(3);
      assert.deepEqual(
        tail.events.map((e) => e.data),
        ["a", "b", "c"],
      );
      const positions = tail.events.map((e) => e.pos);
      assert.ok(positions[0]! < positions[1]! && positions[1]! < positions[2]!, `positions ${positions}`);
      assert.deepEqual(
        [...results, ...more].map((r) => r.event.id),
        tail.ids(),
      );
      assert.ok(results.every((r) => !r.duplicate));
      assert.ok(parseHubId(tail.ids()[0]!) !== undefined, "a hub-made id is <epoch>-<pos>");
    });

    it("an event keeps all its topics, in order, live and in replays", async () => {
      const tail = await new Tail(open(freshLog())).start();
      await tail.bus.append([ev("multi", { topics: ["a", "b/c", "d"] })]);
      await tail.has(1);
      assert.deepEqual(tail.events[0]!.topics, ["a", "b/c", "d"]);
      const replay = await tail.bus.replay(EARLIEST, 100);
      assert.deepEqual(replay.kind === "events" && replay.events[0]!.topics, ["a", "b/c", "d"]);
    });

    it("a retry of a held id is not stored again", async () => {
      const tail = await new Tail(open(freshLog())).start();
      const [first] = await tail.bus.append([ev("x", { id: "order-1" })]);
      const [retry] = await tail.bus.append([ev("x", { id: "order-1" })]);
      await tail.bus.append([ev("after")]);
      await tail.has(2);
      assert.equal(first!.duplicate, false);
      assert.equal(retry!.duplicate, true);
      assert.equal(retry!.event.id, "order-1");
      assert.equal(retry!.event.pos, first!.event.pos);
      assert.deepEqual(
        tail.events.map((e) => e.data),
        ["x", "after"],
      );
    });

    it("replays after an id, up to the head, within the limit", async () => {
      const tail = await new Tail(open(freshLog())).start();
      const results = await tail.bus.append([ev("1"), ev("2", { id: "two" }), ev("3"), ev("4")]);
      await tail.has(4);
      const replay = await tail.bus.replay("two", 100);
      assert.equal(replay.kind, "events");
      assert.deepEqual(replay.kind === "events" ? replay.events.map((e) => e.data) : [], ["3", "4"]);
      const fromHubId = await tail.bus.replay(results[0]!.event.id, 100);
      assert.deepEqual(fromHubId.kind === "events" ? fromHubId.events.map((e) => e.data) : fromHubId, [
        "2",
        "3",
        "4",
      ]);
      const tooMany = await tail.bus.replay(results[0]!.event.id, 2);
      assert.deepEqual(tooMany.kind === "missed" && tooMany.reason, "too-old");
      const everything = await tail.bus.replay(EARLIEST, 100);
      assert.deepEqual(everything.kind === "events" ? everything.events.map((e) => e.data) : everything, [
        "1",
        "2",
        "3",
        "4",
      ]);
      const head = await tail.bus.replay(results[3]!.event.id, 100);
      assert.deepEqual(head.kind === "events" && head.events.length, 0);
    });

    it("headId(), where a bus has it, is a resume point: a replay after it answers exactly what came later", async (t) => {
      const tail = await new Tail(open(freshLog())).start();
      if (tail.bus.headId === undefined) {
        t.skip("this bus has no headId()");
        return;
      }
      const empty = tail.bus.headId(); // undefined allowed: nothing held yet
      await tail.bus.append([ev("a"), ev("b", { id: "publisher-chosen" })]);
      await tail.has(2);
      const head = tail.bus.headId();
      assert.ok(head !== undefined && !head.includes("publisher-chosen"), "a position, no publisher id");
      await tail.bus.append([ev("c")]);
      await tail.has(3);
      const datas = async (id: string) => {
        const result = await tail.bus.replay(id, 100);
        assert.equal(result.kind, "events", `replay after ${id}`);
        return result.kind === "events" ? result.events.map((e) => e.data) : [];
      };
      assert.deepEqual(await datas(head), ["c"]);
      if (empty !== undefined) assert.deepEqual(await datas(empty), ["a", "b", "c"]);
    });

    it("currentEpoch(), where a bus has it, is the epoch of its hub ids; append refuses a publisher id of that form", async () => {
      const tail = await new Tail(open(freshLog())).start();
      const [stored] = await tail.bus.append([ev("a")]);
      const epoch = parseHubId(stored!.event.id)?.epoch;
      if (tail.bus.currentEpoch !== undefined) assert.equal(tail.bus.currentEpoch(), epoch);
      await assert.rejects(tail.bus.append([ev("b"), ev("c", { id: `${epoch}-99` })]), {
        code: "bad_request",
      });
      await tail.bus.append([ev("d")]);
      await tail.has(2);
      assert.deepEqual(
        tail.events.map((e) => e.data),
        ["a", "d"],
        "nothing of a refused append is stored",
      );
    });

    it("an unknown or expired id, or one from another epoch, is a typed miss", async () => {
      const tail = await new Tail(open(freshLog(), { maxEvents: 3 })).start();
      const results = await tail.bus.append([ev("1", { id: "first" }), ev("2"), ev("3"), ev("4"), ev("5")]);
      await tail.has(5);
      const expiredOwn = await tail.bus.replay("first", 100);
      assert.deepEqual(expiredOwn.kind === "missed" && expiredOwn.reason, "unknown-id");
      const expiredHub = await tail.bus.replay(results[0]!.event.id, 100);
      assert.deepEqual(expiredHub.kind === "missed" && expiredHub.reason, "unknown-id");
      const unknown = await tail.bus.replay("never-published", 100);
      assert.deepEqual(unknown.kind === "missed" && unknown.reason, "unknown-id");
      const otherEpoch = await tail.bus.replay("zz0other-3", 100);
      assert.deepEqual(otherEpoch.kind === "missed" && otherEpoch.reason, "epoch-changed");
      assert.ok(otherEpoch.kind === "missed" && otherEpoch.headId === results[4]!.event.id);
      const everything = await tail.bus.replay(EARLIEST, 100);
      assert.deepEqual(everything.kind === "events" ? everything.events.map((e) => e.data) : everything, [
        "3",
        "4",
        "5",
      ]);
    });

    it("events dropped before this node read them: a gap, reported in place; no replay crosses it", async (t) => {
      if (fixture.loseUnread === undefined) return t.skip("this bus cannot lose an event it stored");
      const log = freshLog();
      const tail = await new Tail(open(log, { smallRetention: true, maxEvents: 10_000 })).start();
      const before = await tail.bus.append([ev("1", { id: "one" }), ev("2")]);
      await tail.has(2);
      assert.equal(tail.gaps.length, 0, "no gap while nothing was lost");
      await fixture.loseUnread(log, tail.bus);
      const [after] = await tail.bus.append([ev("after")]);
      await until(() => tail.events.at(-1)?.data === "after", "the event after the gap");
      // a broker may have sent some of the dropped events before it dropped the rest, and a
      // RabbitMQ stream drops segments one after the other: one gap or more, all after "2"
      assert.ok(tail.gaps.length >= 1, "a gap");
      assert.ok(tail.gaps[0]!.at >= 2, "reported after the events before it");
      assert.deepEqual(
        tail.ids().slice(0, 2),
        before.map((r) => r.event.id),
      );
      for (const { gap, at } of tail.gaps) {
        const lastBefore = tail.events[at - 1]!;
        const firstAfter = tail.events[at];
        assert.ok(
          gap.pos > lastBefore.pos && (firstAfter === undefined || gap.pos < firstAfter.pos),
          "in place",
        );
        const named = parseHubId(gap.after);
        assert.ok(
          named !== undefined && named.pos >= lastBefore.pos && named.pos < gap.pos,
          "names where it starts",
        );
        assert.ok(gap.count === undefined || gap.count > 0);
      }
      const { gap, at } = tail.gaps.at(-1)!;
      assert.ok(gap.pos < after!.event.pos);
      // a replay from before the gap is told; from the gap's resume id it gets what followed
      for (const id of ["one", before[1]!.event.id]) {
        const crossing = await tail.bus.replay(id, 10_000);
        assert.deepEqual(crossing.kind === "missed" && crossing.reason, "gap", `replay after ${id}`);
      }
      const resumed = await tail.bus.replay(gap.resumeId, 10_000);
      assert.deepEqual(
        resumed.kind === "events" ? resumed.events.map((e) => e.id) : resumed,
        tail.events.slice(at).map((e) => e.id),
      );
      const everything = await tail.bus.replay(EARLIEST, 10_000);
      assert.deepEqual(
        everything.kind === "events" ? everything.events.map((e) => e.id) : everything,
        tail.events.slice(at).map((e) => e.id),
        "EARLIEST starts after the gap",
      );
      // the tail goes on with no further gap
      const gaps = tail.gaps.length;
      await tail.bus.append([ev("later")]);
      await until(() => tail.events.at(-1)?.data === "later", "later");
      assert.equal(tail.gaps.length, gaps);
    });

    it("ids are deduplicated per publisher scope, and a retry must carry the same content", async () => {
      const tail = await new Tail(open(freshLog())).start();
      const a = { id: "payroll-1", scope: "scope-a" };
      const [first] = await tail.bus.append([ev("pay", { ...a, topics: ["p"] })]);
      // another scope's publish with the same id (even the same content) is a new event
      const [other] = await tail.bus.append([ev("pay", { ...a, scope: "scope-b", topics: ["p"] })]);
      const [unscoped] = await tail.bus.append([ev("pay", { id: "payroll-1", topics: ["p"] })]);
      const [retry] = await tail.bus.append([ev("pay", { ...a, topics: ["p"] })]);
      // the same scope and id with other content (data, topics, type, retry or private) is a new event too
      const changed = await tail.bus.append([
        ev("pay2", { ...a, topics: ["p"] }),
        ev("pay2", { ...a, topics: ["p", "q"] }),
        ev("pay2", { ...a, topics: ["p", "q"], type: "t" }),
        ev("pay2", { ...a, topics: ["p", "q"], type: "t", retry: 5 }),
        ev("pay2", { ...a, topics: ["p", "q"], type: "t", retry: 5, private: true }),
      ]);
      // a retry is recognised against the newest event of that scope and id
      const [retryOfNewest] = await tail.bus.append([
        ev("pay2", { ...a, topics: ["p", "q"], type: "t", retry: 5, private: true }),
      ]);
      await tail.has(8);
      assert.deepEqual(
        [first, other, unscoped, retry, ...changed, retryOfNewest].map((r) => r!.duplicate),
        [false, false, false, true, false, false, false, false, false, true],
      );
      assert.equal(retry!.event.pos, first!.event.pos);
      assert.equal(retryOfNewest!.event.pos, changed[4]!.event.pos);
      assert.deepEqual(
        tail.events.map((e) => e.id),
        Array.from({ length: 8 }, () => "payroll-1"),
      );
      const positions = tail.events.map((e) => e.pos);
      assert.equal(new Set(positions).size, 8, "eight events stored");
      // the scope travels with the event but never reaches the wire
      for (const event of tail.events) {
        assert.ok(!new TextDecoder().decode(event.bytes).includes("scope-"), "no scope on the wire");
      }
    });

    it("a replay from a reused id starts after the earliest held event with it that `visible` accepts", async () => {
      const tail = await new Tail(open(freshLog())).start();
      await tail.bus.append([
        ev("squat", { id: "x", topics: ["sandbox"], scope: "squatter" }),
        ev("a", { topics: ["payroll"] }),
        ev("secret", { id: "x", topics: ["payroll"], scope: "payroll", private: true }),
        ev("owner", { id: "x", topics: ["payroll"], scope: "payroll" }),
        ev("b", { topics: ["payroll"] }),
      ]);
      await tail.has(5);
      const datas = async (visible?: (e: HeraldEvent) => boolean) => {
        const result = await tail.bus.replay("x", 100, visible);
        return result.kind === "events" ? result.events.map((e) => e.data) : result.reason;
      };
      const on =
        (topic: string, privately = false) =>
        (e: HeraldEvent) =>
          e.topics.includes(topic) && (!e.private || privately);
      assert.deepEqual(await datas(), ["a", "secret", "owner", "b"], "any event: the earliest");
      assert.deepEqual(await datas(on("payroll")), ["b"], "public payroll only: after owner");
      assert.deepEqual(await datas(on("payroll", true)), ["owner", "b"], "private payroll too: after secret");
      assert.deepEqual(await datas(on("news")), "unknown-id", "no event visible accepts carries it");
      const all = (e: HeraldEvent) => on("payroll", true)(e) || on("sandbox")(e);
      assert.deepEqual(await datas(all), ["a", "secret", "owner", "b"]);
    });

    it("an id is a resume point on any topic the subscriber may read (mayRead); a private one it may not read is unknown", async () => {
      const tail = await new Tail(open(freshLog())).start();
      await tail.bus.append([
        ev("goal", { id: "match.7", topics: ["sports"], scope: "sports-desk" }),
        ev("n1", { topics: ["news"] }),
        ev("memo", { id: "hr.memo", topics: ["hr"], scope: "hr", private: true }),
        ev("n2", { topics: ["news"] }),
        ev("tip", { id: "bet.3", topics: ["odds"], scope: "bookie", private: true }),
        ev("n3", { topics: ["news"] }),
        ev("tip again", { id: "bet.3", topics: ["odds/free"], scope: "tipster" }),
        ev("n4", { topics: ["news"] }),
      ]);
      await tail.has(8);
      // what the hub passes for a subscriber of news (its topics play no part) with these rights
      const readable = (rights: string[]) => (e: HeraldEvent) => mayRead(rights.map(parseSelector), e);
      const datas = async (id: string, visible: (e: HeraldEvent) => boolean) => {
        const result = await tail.bus.replay(id, 100, visible);
        return result.kind === "events" ? result.events.map((e) => e.data) : result.reason;
      };
      // another topic's public event: every held event after it, of every topic (the hub filters)
      assert.deepEqual(await datas("match.7", readable([])), [
        "n1",
        "memo",
        "n2",
        "tip",
        "n3",
        "tip again",
        "n4",
      ]);
      // a private event with the rights to read it: a resume point too
      assert.deepEqual(await datas("hr.memo", readable(["hr"])), ["n2", "tip", "n3", "tip again", "n4"]);
      // ... without them: as an id never held, nothing revealed
      assert.equal(await datas("hr.memo", readable(["payroll"])), "unknown-id");
      assert.equal(await datas("never.held", readable(["payroll"])), "unknown-id");
      // two held events carry bet.3 (two publishers): the earliest the subscriber may read
      assert.deepEqual(await datas("bet.3", readable(["odds"])), ["n3", "tip again", "n4"]);
      assert.deepEqual(await datas("bet.3", readable([])), ["n4"]);
    });

    it("an id whose event left the history is a miss only for a subscriber that could have read it (`seen`)", async () => {
      const tail = await new Tail(open(freshLog(), { maxEvents: 3 })).start();
      await tail.bus.append([
        ev("memo", { id: "hr.memo", topics: ["hr"], scope: "hr", private: true }),
        ev("squat", { id: "hr.memo", topics: ["sandbox"], scope: "sandbox" }),
        ev("f1", { topics: ["sandbox"] }),
        ev("f2", { topics: ["sandbox"] }),
      ]);
      await tail.has(4);
      assert.equal(tail.bus.historySize(), 3, "the memo left, the squatter's event is the oldest held");
      const readable = (rights: string[]) => (e: HeraldEvent) => mayRead(rights.map(parseSelector), e);
      const onSandbox = (e: HeraldEvent) => e.topics.includes("sandbox") && !e.private;
      const datas = async (visible?: (e: HeraldEvent) => boolean, seen?: (e: HeraldEvent) => boolean) => {
        const result = await tail.bus.replay("hr.memo", 100, visible, seen);
        return result.kind === "events" ? result.events.map((e) => e.data) : result.reason;
      };
      // a subscriber that may not read hr: as if the memo had never been (the answer of a wrong guess)
      assert.deepEqual(await datas(readable([])), ["f1", "f2"]);
      assert.deepEqual(await datas(onSandbox, readable(["payroll"])), ["f1", "f2"]);
      // one that may read hr could have seen it: told it missed events, whatever it receives now
      assert.equal(await datas(readable(["hr"])), "unknown-id");
      assert.equal(await datas(onSandbox, readable(["hr"])), "unknown-id");
      // without rights to judge by: any event that left blocks its id
      assert.equal(await datas(), "unknown-id");
    });

    it("history is bounded in bytes too: the oldest go first, a replay from an evicted id is a miss", async () => {
      // each event's size: its data's UTF-8 bytes plus its id, type and topics
      const tail = await new Tail(open(freshLog(), { maxBytes: 1000 })).start();
      const big = (n: number, id?: string) => ev(`${n}`.padEnd(299, "é").slice(0, 150), { id });
      const results = await tail.bus.append([big(0), big(1, "e1"), big(2, "e2"), big(3, "e3"), big(4, "e4")]);
      await tail.has(5);
      assert.equal(tail.bus.historySize(), 3, "three events of ~300 bytes fit in 1000");
      const evicted = await tail.bus.replay("e1", 100);
      assert.deepEqual(evicted.kind === "missed" && evicted.reason, "unknown-id");
      const evictedHub = await tail.bus.replay(results[0]!.event.id, 100);
      assert.deepEqual(evictedHub.kind === "missed" && evictedHub.reason, "unknown-id");
      const fromE2 = await tail.bus.replay("e2", 100);
      assert.deepEqual(fromE2.kind === "events" && fromE2.events.map((e) => e.id), ["e3", "e4"]);
      const everything = await tail.bus.replay(EARLIEST, 100);
      assert.deepEqual(everything.kind === "events" && everything.events.map((e) => e.id), [
        "e2",
        "e3",
        "e4",
      ]);
      // an event larger than the whole bound is delivered, and then not held
      await tail.bus.append([ev("x".repeat(2000), { id: "huge" }), ev("small", { id: "after-huge" })]);
      await tail.has(7);
      const huge = await tail.bus.replay("huge", 100);
      assert.deepEqual(huge.kind === "missed" && huge.reason, "unknown-id");
      const e4 = await tail.bus.replay("e4", 100);
      assert.deepEqual(e4.kind === "missed" && e4.reason, "unknown-id", "evicted by the huge one");
    });

    it("every node receives every event once, in one order", { skip: false }, async (t) => {
      if (!fixture.shared) return t.skip("the embedded bus has one node");
      const log = freshLog();
      const a = await new Tail(open(log)).start();
      const b = await new Tail(open(log)).start();
      const appends: Promise<unknown>[] = [];
      for (let i = 0; i < 40; i++) appends.push((i % 2 === 0 ? a : b).bus.append([ev(`e${i}`)]));
      await Promise.all(appends);
      await a.has(40);
      await b.has(40);
      assert.deepEqual(a.ids(), b.ids());
      assert.equal(new Set(a.ids()).size, 40);
      // a node that joins later replays the same history, and resumes from another node's id
      const c = await new Tail(open(log)).start();
      const replay = await c.bus.replay(a.ids()[9]!, 100);
      assert.deepEqual(replay.kind === "events" ? replay.events.map((e) => e.id) : replay, a.ids().slice(10));
      // the private flag travels with the event to every node and into replays
      const [secret] = await a.bus.append([ev("secret", { private: true })]);
      await until(() => b.events.at(-1)?.id === secret!.event.id, "private event on b");
      assert.equal(b.events.at(-1)!.private, true);
      // A node answers replays from the log as far as it has tailed it (later events reach its
      // subscribers live): wait until c has tailed the event, then its replay must carry the flag.
      await until(() => c.events.at(-1)?.id === secret!.event.id, "private event on c");
      const replayed = await c.bus.replay(a.ids()[39]!, 100);
      assert.deepEqual(
        replayed.kind === "events" ? replayed.events.map((e) => [e.data, e.private]) : replayed,
        [["secret", true]],
      );
      // a retry on another node is still a duplicate, within its publisher's scope only
      const [held] = await a.bus.append([ev("once", { id: "shared-id", scope: "s1" })]);
      await b.has(42);
      const [retry] = await b.bus.append([ev("once", { id: "shared-id", scope: "s1" })]);
      assert.equal(retry!.duplicate, true);
      assert.equal(retry!.event.pos, held!.event.pos);
      const [otherScope] = await b.bus.append([ev("once", { id: "shared-id", scope: "s2" })]);
      assert.equal(otherScope!.duplicate, false);
      await a.has(43);
      assert.equal(a.events.at(-1)!.pos, otherScope!.event.pos);
      // two retries racing on two nodes: stored or delivered once, both answered with that event
      const raced = await Promise.all([
        a.bus.append([ev("race", { id: "raced-id" })]),
        b.bus.append([ev("race", { id: "raced-id" })]),
      ]);
      const racedScoped = await Promise.all([
        a.bus.append([ev("race", { id: "raced-id", scope: "s3" })]),
        b.bus.append([ev("race", { id: "raced-id", scope: "s3" })]),
      ]);
      await a.bus.append([ev("marker")]);
      await until(() => a.events.at(-1)?.data === "marker" && b.events.at(-1)?.data === "marker", "marker");
      assert.equal(a.events.filter((e) => e.id === "raced-id").length, 2, "once per scope");
      assert.equal(racedScoped[0]![0]!.event.pos, racedScoped[1]![0]!.event.pos);
      // a node that tails a reused id resolves a replay from it the same way
      await until(() => c.events.at(-1)?.data === "marker", "marker on c");
      const reused = await c.bus.replay("shared-id", 100);
      assert.deepEqual(
        reused.kind === "events" && reused.events[0]?.pos,
        otherScope!.event.pos,
        "after the earliest (s1's), s2's event comes first",
      );
      assert.deepEqual(a.ids(), b.ids());
      assert.equal(raced[0]![0]!.event.pos, raced[1]![0]!.event.pos);
    });

    it("history survives a restart of every node; a lost log is a new epoch", async (t) => {
      if (!fixture.shared) return t.skip("the embedded bus keeps no history across a restart");
      const log = freshLog();
      const first = await new Tail(open(log)).start();
      const [one, two] = await first.bus.append([ev("1"), ev("2")]);
      await first.bus.close();
      const second = await new Tail(open(log)).start();
      const replay = await second.bus.replay(one!.event.id, 100);
      assert.deepEqual(replay.kind === "events" ? replay.events.map((e) => e.id) : replay, [two!.event.id]);
      await fixture.lose!(log);
      await second.bus.close();
      const third = await new Tail(open(log)).start();
      const [fresh] = await third.bus.append([ev("new")]);
      assert.notEqual(parseHubId(fresh!.event.id)?.epoch, parseHubId(one!.event.id)?.epoch);
      const old = await third.bus.replay(one!.event.id, 100);
      assert.deepEqual(old.kind === "missed" && old.reason, "epoch-changed");
    });
  });
}
