import { setTimeout as sleep } from "node:timers/promises";
import { type History, type SentEvent, type SubscriberLog, selectorMatches } from "./checker.ts";

/** The publisher name of the run's closing fence events (publishers.ts). */
export const FENCE = "fence";

/**
 * The run's closing fence (run.ts): one public event per topic, published one after the other on
 * one node, each once the one before was answered, so an acknowledged fence comes later in the log
 * than everything acknowledged before it. A subscriber is settled once it got the last acknowledged
 * fence on its topics: delivery being in log order, nothing acknowledged before that fence can
 * still arrive. An earlier fence is not enough: the later ones are acknowledged events too, still
 * on their way (a node behind the publishing one delivers them a moment later). With no
 * acknowledged fence on its topics, any fence it got settles it. `awaitFences` polls it.
 */
export class FenceWatch {
  /** Per subscriber: how far its events were scanned, and the fences (event indexes) among them. */
  private readonly seen = new Map<SubscriberLog, { scanned: number; fences: Set<number> }>();

  /** The acknowledged fences, in send order. */
  private readonly acked: readonly SentEvent[];

  /** Made once every fence publish was answered (the acknowledged fences are read here). */
  constructor(private readonly history: History) {
    this.acked = history.events.filter((e) => e.publisher === FENCE && e.ack !== undefined);
  }

  /** The last acknowledged fence on `sub`'s topics (fences are public), by send order. */
  lastFence(sub: SubscriberLog): SentEvent | undefined {
    return this.acked.findLast((e) => e.topics.some((t) => sub.selectors.some((s) => selectorMatches(s, t))));
  }

  /** Whether `sub` got its last fence (see the class comment). */
  settled(sub: SubscriberLog): boolean {
    const fences = this.fences(sub);
    const last = this.lastFence(sub);
    return last === undefined ? fences.size > 0 : fences.has(last.index);
  }

  /** Whether `sub` got any fence at all. */
  anyFence(sub: SubscriberLog): boolean {
    return this.fences(sub).size > 0;
  }

  private fences(sub: SubscriberLog): Set<number> {
    let entry = this.seen.get(sub);
    if (entry === undefined) {
      entry = { scanned: 0, fences: new Set() };
      this.seen.set(sub, entry);
    }
    for (; entry.scanned < sub.events.length; entry.scanned++) {
      const index = sub.events[entry.scanned]!;
      if (index >= 0 && this.history.events[index]!.publisher === FENCE) entry.fences.add(index);
    }
    return entry.fences;
  }
}

/**
 * Waits until every subscriber got its last fence (`FenceWatch`); `nodes` say why they are not
 * ready (FaultNode: /readyz), polled every `pollMs`. `ms` counts from the start, or from
 * the last time a node answered /readyz with anything but 200 (its tail still catching up after the
 * broker came back, say: its streams get the fence only once it has read that far), but no more
 * than `notReadyMs` beyond `ms` in all. Never waits for a fixed time: it ends as soon as every
 * subscriber is settled. `report` says how it ended, for the failure message: a subscriber that
 * lacks its fence while its node never got ready again is a node that did not recover in time,
 * which the lost events it shows do not prove on their own; every node ready and a fence missing
 * is a loss. `progress` is for the progress log.
 */
export async function awaitFences(
  history: History,
  nodes: readonly { notReady(): Promise<string | undefined> }[],
  { ms, notReadyMs, pollMs = 500 }: { ms: number; notReadyMs: number; pollMs?: number },
): Promise<{ report: string[]; progress: string[] }> {
  const watch = new FenceWatch(history);
  const subs = history.subscribers;
  const start = Date.now();
  const seconds = (t: number) => `${((t - start) / 1000).toFixed(1)} s`;
  let countFrom = start;
  let nextPoll = start;
  let anyFenceAt: number | undefined;
  let lackingThen: string[] = [];
  /** Per node: the last reason it was not ready, and when it was last seen so. */
  const notReady = new Map<number, { reason: string; at: number }>();
  let still: readonly (string | undefined)[] = [];
  for (;;) {
    const now = Date.now();
    if (anyFenceAt === undefined && subs.every((s) => watch.anyFence(s))) {
      anyFenceAt = now;
      lackingThen = subs.filter((s) => !watch.settled(s)).map((s) => s.name);
    }
    if (subs.every((s) => watch.settled(s))) break;
    if (now >= nextPoll) {
      still = await Promise.all(nodes.map((n) => n.notReady()));
      for (const [i, reason] of still.entries())
        if (reason !== undefined) {
          notReady.set(i, { reason, at: Date.now() });
          countFrom = Date.now();
        }
      nextPoll = Date.now() + pollMs;
    }
    if (Date.now() - countFrom > ms || Date.now() - start > ms + notReadyMs) break;
    await sleep(10);
  }
  const end = Date.now();
  const lacking = subs.filter((s) => !watch.settled(s));
  const report: string[] = [];
  if (lacking.length === 0) report.push(`fence: every subscriber got its last fence within ${seconds(end)}`);
  else
    report.push(
      `fence: not received after ${seconds(end)} by ${lacking
        .map((s) => `${s.name} (${watch.lastFence(s)?.key ?? "any fence"})`)
        .join(", ")}`,
    );
  for (const [i, { reason, at }] of notReady)
    report.push(
      still[i] === undefined
        ? `fence: node ${i} was not ready at ${seconds(at)} into the wait (${reason}), ready after; the fence was awaited ${ms / 1000} s from then`
        : `fence: node ${i} still not ready after ${seconds(end)} (${reason}): it never caught up within the bound, so what it did not deliver may be late, not lost`,
    );
  if (lacking.length > 0 && notReady.size === 0)
    report.push("fence: every node was ready throughout the wait");
  const progress = [
    ...report,
    anyFenceAt === undefined
      ? "fence: some subscriber got no fence at all"
      : `fence: every subscriber had some fence at ${seconds(anyFenceAt)}${
          lackingThen.length > 0 ? `, when ${lackingThen.join(", ")} still lacked their last one` : ""
        }`,
  ];
  return { report, progress };
}
