import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { httpRequest, type JsonResponse, RawStream } from "./herald.ts";
import { bearer, heraldToken } from "./tokens.ts";

/** One event as a raw stream carried it. */
export interface WireEvent {
  id: string;
  type: string;
  data: string;
}

/**
 * The complete events of an SSE text (comments, `retry:` and the `herald.stream` opening event
 * skipped; one `data:` line per event here). An event still arriving (no blank line after it yet)
 * is not counted.
 */
export function eventsOf(text: string): WireEvent[] {
  const events: WireEvent[] = [];
  const blocks = text.split("\n\n");
  blocks.pop(); // after the last blank line: empty, or an event not complete yet
  for (const block of blocks) {
    const event: WireEvent = { id: "", type: "message", data: "" };
    let any = false;
    for (const line of block.split("\n")) {
      const colon = line.indexOf(": ");
      if (colon <= 0) continue;
      const field = line.slice(0, colon);
      const value = line.slice(colon + 2);
      if (field === "id") event.id = value;
      else if (field === "event") event.type = value;
      else if (field === "data") {
        event.data = value;
        any = true;
      }
    }
    if (any && event.type !== "herald.stream") events.push(event);
  }
  return events;
}

/** A Herald under test: its URL (the TEST_SECRET key is configured) and how to stop it. */
export interface IdScopeTarget {
  readonly url: string;
  /**
   * `queued` counts the subscribers of the one process that answered, of several behind the URL
   * (`--workers N`: the publishing worker's); the subscriber may be on another, so where one
   * process would answer 1 the suite accepts 0 or 1.
   */
  readonly queuedPerWorker?: boolean;
  stop(): Promise<void>;
}

/**
 * Issue 11, "id squatting", over HTTP: ids are deduplicated per publisher (token subject and publish
 * rights), so a publisher can neither stop nor alter another's events, and no answer reveals events
 * its caller may not see. Run against every way of running Herald (memory, --workers, brokers).
 */
export function runIdScopeSuite(name: string, start: () => Promise<IdScopeTarget>): void {
  describe(`publisher ids are scoped by publisher: ${name}`, () => {
    let target: IdScopeTarget;
    const streams: RawStream[] = [];
    let sandbox: string;
    let payroll: string;
    let run = 0;
    before(async () => {
      target = await start();
      sandbox = await heraldToken({ publish: ["sandbox/*"] }, { subject: "tester", expiresInSec: 600 });
      payroll = await heraldToken(
        { publish: ["payroll/*"], subscribe: ["payroll/*"] },
        { subject: "payroll-service", expiresInSec: 600 },
      );
    });
    after(async () => {
      for (const stream of streams) stream.close();
      await target?.stop();
    });

    /** A fresh name per test: the hub (and the broker) is shared by the tests of a suite. */
    const fresh = () => `${++run}-${Date.now().toString(36)}`;
    let P = "";
    let S = "";
    beforeEach(() => {
      P = `payroll/${fresh()}`;
      S = `sandbox/${fresh()}`;
    });
    const send = (token: string, body: unknown): Promise<JsonResponse> =>
      httpRequest(`${target.url}/publish`, {
        method: "POST",
        headers: { "content-type": "application/json", ...bearer(token) },
        body: JSON.stringify(body),
      });
    const ok = async (token: string, body: unknown): Promise<{ id: string; queued: number }> => {
      const answer = await send(token, body);
      assert.equal(answer.status, 200, answer.text);
      return answer.body as { id: string; queued: number };
    };
    const open = async (query: string, headers: Record<string, string> = {}): Promise<RawStream> => {
      const stream = new RawStream(`${target.url}/events?${query}`, headers);
      streams.push(stream);
      await stream.opened();
      return stream;
    };
    const datas = (stream: RawStream) => eventsOf(stream.text).map((e) => e.data);
    /** `answer` is `{id, queued: 1}` (`queuedPerWorker`: queued 0 or 1). */
    const queuedForOne = (answer: { id: string; queued: number }, id: string, message?: string) => {
      if (target.queuedPerWorker === true) {
        assert.equal(answer.id, id, message);
        assert.ok(answer.queued === 0 || answer.queued === 1, `${message ?? ""} queued ${answer.queued}`);
      } else assert.deepEqual(answer, { id, queued: 1 }, message);
    };

    it("a publisher of another topic cannot squat an id: the owner's event is stored and delivered", async () => {
      const id = `payroll-2025-03-${fresh()}`;
      const subscriber = await open(`topic=${P}`);
      await ok(sandbox, { topic: S, id, data: "squat" });
      const answer = await ok(payroll, { topic: P, id, data: "salaries" });
      queuedForOne(answer, id, "stored and queued for the payroll subscriber");
      await subscriber.until(() => datas(subscriber).includes("salaries"));
      assert.deepEqual(
        eventsOf(subscriber.text).filter((e) => e.data === "salaries"),
        [{ id, type: "message", data: "salaries" }],
      );
    });

    it("re-publishing another publisher's id reveals nothing: the answer is that of a fresh id", async () => {
      const subscriber = await open(`topic=${P}`);
      const id = `payroll-2025-04-${fresh()}`;
      const first = await ok(payroll, { topic: P, id, data: "april" });
      queuedForOne(first, id);
      // nobody listens on sandbox: an answer of its own says queued 0, the payroll event's said 1
      const squat = await ok(sandbox, { topic: S, id, data: "april" });
      const unused = `never-used-${fresh()}`;
      const control = await ok(sandbox, { topic: S, id: unused, data: "april" });
      assert.deepEqual(squat, { id, queued: 0 });
      assert.deepEqual(control, { id: unused, queued: 0 });
      await subscriber.until(() => datas(subscriber).includes("april"));
      assert.equal(datas(subscriber).filter((d) => d === "april").length, 1);
    });

    it("a retry by the same publisher with the same content is answered as the first and delivered once", async () => {
      const subscriber = await open(`topic=${P}`);
      const id = `payroll-retry-${fresh()}`;
      const body = { topic: P, id, event: "pay", data: { total: 3 } };
      const first = await ok(payroll, body);
      const again = await ok(payroll, body);
      // with workers the retry may reach another worker, which counts its own subscribers
      if (target.queuedPerWorker === true) assert.equal(again.id, first.id);
      else assert.deepEqual(again, first);
      // the same id with other content is another event (the retry would not be safe)
      const changed = await ok(payroll, { ...body, data: { total: 4 } });
      queuedForOne(changed, id);
      await ok(payroll, { topic: P, data: `end-${id}` });
      await subscriber.until(() => datas(subscriber).includes(`end-${id}`));
      assert.deepEqual(
        eventsOf(subscriber.text).filter((e) => e.id === id),
        [
          { id, type: "pay", data: '{"total":3}' },
          { id, type: "pay", data: '{"total":4}' },
        ],
      );
    });

    it("resuming from a reused id starts after the earliest event with it on the subscriber's topics; another publisher's reuse elsewhere moves nothing", async () => {
      const id = `payroll-2025-05-${fresh()}`;
      const tag = fresh();
      await ok(sandbox, { topic: S, id, data: `squat-${tag}` });
      await ok(payroll, { topic: P, data: `a-${tag}` });
      await ok(payroll, { topic: P, id, data: `may-${tag}` });
      await ok(payroll, { topic: P, data: `b-${tag}` });
      // the id is on a payroll subscriber's topics: it resumes right after the payroll event (the
      // squatter's earlier sandbox event with the same id would have sent a and may again)
      const payrollOnly = await open(`topic=${P}`, { "last-event-id": id });
      await payrollOnly.until(() => datas(payrollOnly).includes(`b-${tag}`));
      assert.deepEqual(datas(payrollOnly), [`b-${tag}`]);
      // a subscriber of both saw the earliest one: it gets everything after it (a duplicate, never a gap)
      const both = await open(`topic=${P}&topic=${S}`, { "last-event-id": id });
      await both.until(() => datas(both).includes(`b-${tag}`));
      assert.deepEqual(datas(both), [`a-${tag}`, `may-${tag}`, `b-${tag}`]);
    });

    it("resuming from the id of an event the subscriber may not see answers as for an unknown id", async () => {
      const id = `payroll-secret-${fresh()}`;
      await ok(payroll, { topic: P, id, data: "secret", private: true });
      // an anonymous payroll subscriber (no private rights), and a sandbox one
      for (const [query, token, topic] of [
        [`topic=${P}`, payroll, P],
        [`topic=${S}`, sandbox, S],
      ] as const) {
        const probe = await open(query, { "last-event-id": id });
        const unknown = await open(query, { "last-event-id": `never-${id}` });
        await ok(token, { topic, data: `marker-${topic}` });
        for (const stream of [probe, unknown]) {
          await stream.until(() => datas(stream).includes(`marker-${topic}`));
        }
        const [missed] = eventsOf(probe.text);
        const [control] = eventsOf(unknown.text);
        assert.equal(missed!.type, "herald.missed", `${query}: ${probe.text}`);
        assert.deepEqual(JSON.parse(missed!.data), { lastEventId: id, reason: "unknown-id" });
        assert.deepEqual(JSON.parse(control!.data), { lastEventId: `never-${id}`, reason: "unknown-id" });
      }
      // the payroll service's own subscriber resumes from it
      const owner = await open(`topic=${P}`, { ...bearer(payroll), "last-event-id": id });
      await ok(payroll, { topic: P, data: `next-${id}` });
      await owner.until(() => datas(owner).includes(`next-${id}`));
      assert.deepEqual(datas(owner), [`marker-${P}`, `next-${id}`]);
    });
  });
}
