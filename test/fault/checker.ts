/**
 * The fault suite's checker (Jepsen's way): a `History` records every publish sent, every 2xx
 * answer, and every event each subscriber received; `check(history)` then judges the whole run
 * against Herald's promise. No I/O here: the recorders (subscribers.ts, publishers.ts) feed it.
 *
 * The promise checked, for every subscriber (one logical client, across its reconnections with
 * `Last-Event-ID`):
 * - every event answered 2xx whose publish was sent after the subscriber first opened, on one of its
 *   topics and visible to it, is delivered exactly once, or lies in a gap a `herald.missed` event
 *   covers (the events between the last event delivered before that signal and the first after it);
 * - nothing is delivered twice, nothing it did not ask for, no private event its token does not
 *   allow, no event that was never published, and no event under another id than its 2xx answer gave;
 * - events arrive in log order: each subscriber's positions strictly increase. Positions come from
 *   Herald's ids (`<epoch>-<n>`, epochs ranked by when first seen), so every subscriber sees the same
 *   relative order: the log's. Publish order between concurrent publishers is not checked;
 * - each publisher's acknowledged events hold positions in the order it sent them (one batch is
 *   stored in order; a publisher that waits for each answer sees its events stored in that order).
 */

/** One event the run tried to publish. `key` is unique and travels at the start of its data. */
export interface SentEvent {
  readonly key: string;
  readonly topics: readonly string[];
  readonly private: boolean;
  /** The node (index) the publish went to. */
  readonly node: number;
  /** The publisher that sent it: a sequence of requests, each sent after the previous one's answer. */
  readonly publisher: string;
  /** Its rank in that publisher's sequence. */
  readonly seq: number;
  /** When its request started (ms, performance.now()). */
  readonly sentAt: number;
  /** Set on a 2xx answer: the id Herald answered, and when. */
  ack?: { readonly id: string; readonly at: number };
}

export type Received =
  | { readonly type: "event"; readonly id: string; readonly key: string; readonly at: number }
  | {
      readonly type: "missed";
      readonly id: string;
      readonly lastEventId: string;
      readonly reason: string;
      readonly at: number;
    };

export interface SubscriberLog {
  readonly name: string;
  readonly kind: "eventsource" | "raw";
  /** The topic selectors it subscribed to. */
  readonly selectors: readonly string[];
  /** Its token's `subscribe` claim: where it may receive private events ([] when anonymous). */
  readonly privateSelectors: readonly string[];
  /** When its first stream opened (ms, performance.now()); undefined while it never opened. */
  openedAt: number | undefined;
  /** Streams opened (1 + reconnections). */
  opens: number;
  readonly received: Received[];
}

export class History {
  readonly sent = new Map<string, SentEvent>();
  readonly subscribers: SubscriberLog[] = [];

  send(event: SentEvent): void {
    if (this.sent.has(event.key)) throw new Error(`the run reused key ${event.key}`);
    this.sent.set(event.key, event);
  }

  ack(key: string, id: string, at: number): void {
    const event = this.sent.get(key);
    if (event === undefined) throw new Error(`ack of unknown key ${key}`);
    event.ack = { id, at };
  }

  subscriber(log: Omit<SubscriberLog, "openedAt" | "opens" | "received">): SubscriberLog {
    const full: SubscriberLog = { ...log, openedAt: undefined, opens: 0, received: [] };
    this.subscribers.push(full);
    return full;
  }
}

export type ViolationKind =
  | "lost" // acknowledged, expected, neither delivered nor covered by herald.missed
  | "duplicate" // delivered twice to one subscriber
  | "order" // delivered out of log order
  | "private-leak" // a private event reached a stream whose token does not allow it
  | "wrong-topic" // an event on none of the subscriber's topics
  | "unknown" // an event no publish of the run sent
  | "id-mismatch" // delivered under another id than its 2xx answer
  | "ack-order"; // a publisher's acknowledged events stored out of its sending order

export const VIOLATION_KINDS: readonly ViolationKind[] = [
  "lost",
  "duplicate",
  "order",
  "private-leak",
  "wrong-topic",
  "unknown",
  "id-mismatch",
  "ack-order",
];

export interface SubscriberCounts {
  readonly name: string;
  readonly opens: number;
  readonly expected: number;
  readonly delivered: number;
  readonly missedSignals: number;
  readonly covered: number;
  readonly violations: Readonly<Record<ViolationKind, number>>;
}

export interface Report {
  /** Events sent / answered 2xx / not answered 2xx (refused, failed or unanswered: may be stored or not). */
  readonly sent: number;
  readonly acknowledged: number;
  readonly unacknowledged: number;
  /** Deliveries to every subscriber (events, not herald.missed). */
  readonly delivered: number;
  /** (subscriber, event) pairs the promise covers. */
  readonly expected: number;
  readonly missedSignals: number;
  /** Expected pairs not delivered but inside a gap a herald.missed event covers. */
  readonly covered: number;
  readonly violations: Readonly<Record<ViolationKind, number>> & { readonly total: number };
  readonly perSubscriber: readonly SubscriberCounts[];
  /** Violations by phase of the run (`check`'s `phaseOf`, from the event's send time), e.g. by step. */
  readonly byPhase: Readonly<Record<string, Partial<Record<ViolationKind, number>>>>;
  /** The first few violations, described. */
  readonly examples: readonly string[];
}

/** A position in the log: the epoch's rank (by when first seen), then the number in the id. */
type Pos = readonly [number, number];

const before = (a: Pos, b: Pos) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

/** Herald's subscription selectors: `*`, a prefix ending in `/*`, `:*` or `.*`, or an exact topic. */
export function selectorMatches(selector: string, topic: string): boolean {
  if (selector === "*") return true;
  if (/[/:.]\*$/.test(selector)) return topic.startsWith(selector.slice(0, -1));
  return selector === topic;
}

const anyMatch = (selectors: readonly string[], topics: readonly string[]) =>
  topics.some((topic) => selectors.some((s) => selectorMatches(s, topic)));

/** May `subscriber` receive `event` (docs/auth.md): one of its topics, and for a private event, its claim. */
export function visible(subscriber: SubscriberLog, event: SentEvent): boolean {
  if (!anyMatch(subscriber.selectors, event.topics)) return false;
  return !event.private || anyMatch(subscriber.privateSelectors, event.topics);
}

const MAX_EXAMPLES = 20;

/**
 * Judges `history`. `phaseOf` names the phase an event was sent in (a fault step), so violations
 * can be told apart by fault; the default puts every event in one phase, "run".
 */
export function check(history: History, phaseOf: (event: SentEvent) => string = () => "run"): Report {
  const examples: string[] = [];
  const total = zero();
  const byPhase: Record<string, Partial<Record<ViolationKind, number>>> = {};
  const inPhase = (kind: ViolationKind, event: SentEvent | undefined) => {
    const phase = event === undefined ? "unknown" : phaseOf(event);
    byPhase[phase] ??= {};
    byPhase[phase][kind] = (byPhase[phase][kind] ?? 0) + 1;
  };
  const flag = (
    kind: ViolationKind,
    counts: Record<ViolationKind, number>,
    text: string,
    event: SentEvent | undefined,
  ) => {
    counts[kind]++;
    total[kind]++;
    inPhase(kind, event);
    if (examples.length < MAX_EXAMPLES) examples.push(`${kind}: ${text}`);
  };
  const pos = positions(history);
  const posOf = (id: string): Pos => pos(id) ?? [-1, -1];

  const acked = [...history.sent.values()].filter((e) => e.ack !== undefined);
  const ackOrder = zero();
  checkAckOrder(acked, posOf, (text, event) => flag("ack-order", ackOrder, text, event));

  let delivered = 0;
  let expectedTotal = 0;
  let missedTotal = 0;
  let coveredTotal = 0;
  const perSubscriber: SubscriberCounts[] = [];
  for (const sub of history.subscribers) {
    const counts = zero();
    const seen = new Set<string>();
    const deliveredPos: Pos[] = [];
    /** Gaps covered by herald.missed: open intervals between the neighbouring deliveries. */
    const gaps: { from: Pos | undefined; to: Pos | undefined }[] = [];
    let last: Pos | undefined;
    let openGap: { from: Pos | undefined; to: Pos | undefined } | undefined;
    let missed = 0;
    for (const r of sub.received) {
      if (r.type === "missed") {
        missed++;
        openGap ??= { from: last, to: undefined };
        continue;
      }
      delivered++;
      const event = history.sent.get(r.key);
      const p = posOf(r.id);
      if (openGap !== undefined) {
        openGap.to = p;
        gaps.push(openGap);
        openGap = undefined;
      }
      if (event === undefined) {
        flag(
          "unknown",
          counts,
          `${sub.name} got ${JSON.stringify(r.key)} (id ${r.id}), never published`,
          event,
        );
        continue;
      }
      if (event.ack !== undefined && event.ack.id !== r.id)
        flag("id-mismatch", counts, `${sub.name} got ${r.key} as ${r.id}, answered ${event.ack.id}`, event);
      if (!anyMatch(sub.selectors, event.topics))
        flag("wrong-topic", counts, `${sub.name} (${sub.selectors}) got ${r.key} on ${event.topics}`, event);
      else if (!visible(sub, event))
        flag(
          "private-leak",
          counts,
          `${sub.name} (claim ${sub.privateSelectors}) got private ${r.key}`,
          event,
        );
      if (seen.has(r.key)) flag("duplicate", counts, `${sub.name} got ${r.key} (${r.id}) again`, event);
      seen.add(r.key);
      if (last !== undefined && !before(last, p))
        flag("order", counts, `${sub.name} got ${r.id} after ${describePos(last)}`, event);
      last = p;
      deliveredPos.push(p);
    }
    if (openGap !== undefined) gaps.push(openGap);
    missedTotal += missed;

    let expected = 0;
    let covered = 0;
    const lost: string[] = [];
    if (sub.openedAt !== undefined) {
      for (const event of acked) {
        if (event.sentAt < sub.openedAt || !visible(sub, event)) continue;
        expected++;
        if (seen.has(event.key)) continue;
        const p = posOf(event.ack!.id);
        if (
          gaps.some(
            (g) => (g.from === undefined || before(g.from, p)) && (g.to === undefined || before(p, g.to)),
          )
        )
          covered++;
        else {
          counts.lost++;
          total.lost++;
          inPhase("lost", event);
          lost.push(`${event.key} (${event.ack!.id})`);
        }
      }
    }
    if (lost.length > 0 && examples.length < MAX_EXAMPLES)
      examples.push(`lost: ${sub.name} never got ${lost.length} events, e.g. ${lost.slice(0, 3).join(", ")}`);
    expectedTotal += expected;
    coveredTotal += covered;
    perSubscriber.push({
      name: sub.name,
      opens: sub.opens,
      expected,
      delivered: deliveredPos.length,
      missedSignals: missed,
      covered,
      violations: counts,
    });
  }
  const sum = VIOLATION_KINDS.reduce((n, k) => n + total[k], 0);
  return {
    sent: history.sent.size,
    acknowledged: acked.length,
    unacknowledged: history.sent.size - acked.length,
    delivered,
    expected: expectedTotal,
    missedSignals: missedTotal,
    covered: coveredTotal,
    violations: { ...total, total: sum },
    perSubscriber,
    byPhase,
    examples,
  };
}

function zero(): Record<ViolationKind, number> {
  return Object.fromEntries(VIOLATION_KINDS.map((k) => [k, 0])) as Record<ViolationKind, number>;
}

function describePos(p: Pos): string {
  return `position ${p[1]} of epoch #${p[0]}`;
}

/**
 * Parses Herald's ids `<epoch>-<n>`; epochs are ranked by the time they were first seen (in a 2xx
 * answer or a delivery). Undefined for an id of another form.
 */
function positions(history: History): (id: string) => Pos | undefined {
  const firstSeen = new Map<string, number>();
  const see = (id: string, at: number) => {
    const m = /^(.+)-(\d+)$/.exec(id);
    if (m === null) return;
    const t = firstSeen.get(m[1]!);
    if (t === undefined || at < t) firstSeen.set(m[1]!, at);
  };
  for (const e of history.sent.values()) if (e.ack !== undefined) see(e.ack.id, e.ack.at);
  for (const sub of history.subscribers) for (const r of sub.received) see(r.id, r.at);
  const rank = new Map([...firstSeen.entries()].sort((a, b) => a[1] - b[1]).map(([epoch], i) => [epoch, i]));
  return (id) => {
    const m = /^(.+)-(\d+)$/.exec(id);
    if (m === null) return undefined;
    return [rank.get(m[1]!) ?? -1, Number(m[2])];
  };
}

/** Each publisher's acknowledged events, in the order it sent them, must hold increasing positions. */
function checkAckOrder(
  acked: readonly SentEvent[],
  posOf: (id: string) => Pos,
  flag: (text: string, event: SentEvent) => void,
) {
  const byPublisher = new Map<string, SentEvent[]>();
  for (const e of acked) {
    const list = byPublisher.get(e.publisher);
    if (list === undefined) byPublisher.set(e.publisher, [e]);
    else list.push(e);
  }
  for (const [publisher, events] of byPublisher) {
    events.sort((a, b) => a.seq - b.seq);
    for (let i = 1; i < events.length; i++) {
      const prev = events[i - 1]!;
      const cur = events[i]!;
      const [a, b] = [posOf(prev.ack!.id), posOf(cur.ack!.id)];
      if (!before(a, b))
        flag(
          `${publisher}: ${cur.key} stored as ${cur.ack!.id}, not after ${prev.key} (${prev.ack!.id})`,
          cur,
        );
    }
  }
}
