import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { httpRequest, RawStream } from "./herald.ts";
import { eventsOf, type IdScopeTarget, type WireEvent } from "./id-scope-suite.ts";
import { bearer, heraldToken } from "./tokens.ts";

/** The history size the targets of `runForgottenIdSuite` are started with (`--history-size`). */
export const FORGOTTEN_SUITE_HISTORY = 4;

/**
 * docs/concepts.md "Ids", over HTTP: the id of an event that left the history (evicted) blocks a
 * resume (`herald.missed`, `unknown-id`) only for a subscriber that could have read that event;
 * for any other, the id resolves as if that event had never been, so the answer reveals nothing
 * about events it may not read.
 *
 * Found in an attack round (2026-12-02, docs/concepts.md "Known limit"): the ids of evicted events
 * were remembered hub-wide without their topics or privacy. A publisher that guessed the id of
 * another publisher's private event published a public event with that id, let the private one be
 * evicted (a small history), and resumed from the guess: `unknown-id` when the guess was right, a
 * replay otherwise. So it learnt that the private event existed.
 *
 * `start` starts Herald with `--history-size FORGOTTEN_SUITE_HISTORY` and the TEST_SECRET key.
 */
export function runForgottenIdSuite(name: string, start: () => Promise<IdScopeTarget>): void {
  describe(`the ids of evicted events reveal nothing to who could not read them: ${name}`, () => {
    let target: IdScopeTarget;
    const streams: RawStream[] = [];
    let attacker: string; // publishes on sandbox/*, may read no private event
    let payroll: string; // publishes and reads payroll/*
    let run = 0;
    before(async () => {
      target = await start();
      attacker = await heraldToken({ publish: ["sandbox/*"] }, { subject: "attacker", expiresInSec: 600 });
      payroll = await heraldToken(
        { publish: ["payroll/*"], subscribe: ["payroll/*"] },
        { subject: "payroll-service", expiresInSec: 600 },
      );
    });
    after(async () => {
      for (const stream of streams) stream.close();
      await target?.stop();
    });

    const fresh = () => `${++run}-${Date.now().toString(36)}`;
    const send = async (token: string, body: unknown): Promise<void> => {
      const answer = await httpRequest(`${target.url}/publish`, {
        method: "POST",
        headers: { "content-type": "application/json", ...bearer(token) },
        body: JSON.stringify(body),
      });
      assert.equal(answer.status, 200, answer.text);
    };
    /**
     * Publishes `first` (the event whose id will be guessed), then the attacker's public event on
     * `S` with `id`, then fillers on S until `first` is evicted and the attacker's event is the
     * oldest held one. Answers the fillers' data: what a resume from the attacker's event replays.
     */
    const evict = async (first: { token: string; body: unknown }, S: string, id: string) => {
      const tag = fresh();
      await send(first.token, first.body);
      await send(attacker, { topic: S, id, data: `own-${tag}` });
      const fillers: string[] = [];
      for (let i = 1; i < FORGOTTEN_SUITE_HISTORY; i++) {
        fillers.push(`filler-${i}-${tag}`);
        await send(attacker, { topic: S, data: `filler-${i}-${tag}` });
      }
      return fillers;
    };
    /**
     * Resumes on `S` from `id` and answers the stream's events once the resume answered: the
     * `herald.missed`, or every replayed event (nothing is published meanwhile: the history stays).
     */
    const resume = async (S: string, id: string, headers: Record<string, string>, replayed: number) => {
      const stream = new RawStream(`${target.url}/events?topic=${S}`, { ...headers, "last-event-id": id });
      streams.push(stream);
      await stream.opened();
      await stream.until(() => {
        const events = eventsOf(stream.text);
        return events[0]?.type === "herald.missed" || events.length >= replayed;
      });
      stream.close();
      return eventsOf(stream.text);
    };
    const missed = (events: WireEvent[], id: string) => {
      assert.equal(events[0]?.type, "herald.missed", JSON.stringify(events));
      assert.deepEqual(JSON.parse(events[0]!.data), { lastEventId: id, reason: "unknown-id" });
    };

    it("a right guess of an evicted private event's id answers as a wrong one: a replay after the attacker's own event", async () => {
      const P = `payroll/${fresh()}`;
      const S = `sandbox/${fresh()}`;
      const secret = `payroll-layoffs-${fresh()}`;
      const right = await evict(
        { token: payroll, body: { topic: P, id: secret, data: "layoffs", private: true } },
        S,
        secret,
      );
      const asRight = await resume(S, secret, bearer(attacker), right.length);
      // the control: the same steps with a guess no event ever carried
      const wrongGuess = `payroll-layoffs-${fresh()}`;
      const wrong = await evict(
        { token: payroll, body: { topic: P, id: `other-${wrongGuess}`, data: "layoffs", private: true } },
        S,
        wrongGuess,
      );
      const asWrong = await resume(S, wrongGuess, bearer(attacker), wrong.length);
      assert.deepEqual(
        asWrong.map((e) => e.data),
        wrong,
      );
      assert.deepEqual(
        asRight.map((e) => e.data),
        right,
        "the right guess answers what the wrong one does: the replay after the attacker's event",
      );
    });

    it("a subscriber that could read the evicted private event is told it missed events", async () => {
      const P = `payroll/${fresh()}`;
      const S = `sandbox/${fresh()}`;
      const id = `payroll-run-${fresh()}`;
      const fillers = await evict(
        { token: payroll, body: { topic: P, id, data: "salaries", private: true } },
        S,
        id,
      );
      missed(await resume(S, id, bearer(payroll), fillers.length), id);
    });

    it("a subscriber that could read the evicted public event on a topic it no longer follows is told it missed events", async () => {
      const P = `payroll/${fresh()}`;
      const S = `sandbox/${fresh()}`;
      const id = `payroll-note-${fresh()}`;
      const fillers = await evict({ token: payroll, body: { topic: P, id, data: "note" } }, S, id);
      // anonymous: it may read public events of any topic
      missed(await resume(S, id, {}, fillers.length), id);
    });
  });
}
