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
  /** Its index in `History.events`. */
  readonly index: number;
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
  /** Set on a 2xx answer: the id Herald answered, and its position. */
  ack?: { readonly id: string; readonly pos: Pos };
}

/**
 * A position in the log, from an id `<epoch>-<n>`: the epoch's rank (epochs ranked by when the run
 * first saw them, in an answer or a delivery), then n. [NaN, NaN] for an id of another form.
 */
export type Pos = readonly [number, number];

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
  /**
   * The events it received, in arrival order, as parallel arrays (a long run records millions):
   * the event's index in `History.events` (-1 - k: the k-th of `unknown`), and its id's position.
   */
  readonly events: number[];
  readonly epochs: number[];
  readonly ns: number[];
  /** Data keys of events no publish of the run sent. */
  readonly unknown: string[];
  /** Its herald.missed signals, each after `after` events had arrived. */
  readonly missed: { readonly after: number; readonly id: string; readonly data: string }[];
}

export class History {
  readonly events: SentEvent[] = [];
  readonly subscribers: SubscriberLog[] = [];
  private readonly byKey = new Map<string, number>();
  private readonly epochRanks = new Map<string, number>();

  send(event: Omit<SentEvent, "index" | "ack">): void {
    if (this.byKey.has(event.key)) throw new Error(`the run reused key ${event.key}`);
    this.byKey.set(event.key, this.events.length);
    this.events.push({ ...event, index: this.events.length });
  }

  ack(key: string, id: string): void {
    const index = this.byKey.get(key);
    if (index === undefined) throw new Error(`ack of unknown key ${key}`);
    this.events[index]!.ack = { id, pos: this.pos(id) };
  }

  event(key: string): SentEvent | undefined {
    const index = this.byKey.get(key);
    return index === undefined ? undefined : this.events[index];
  }

  subscriber(log: Pick<SubscriberLog, "name" | "kind" | "selectors" | "privateSelectors">): SubscriberLog {
    const full: SubscriberLog = {
      ...log,
      openedAt: undefined,
      opens: 0,
      events: [],
      epochs: [],
      ns: [],
      unknown: [],
      missed: [],
    };
    this.subscribers.push(full);
    return full;
  }

  /** `sub` received an event with `id` whose data starts with `key`. */
  delivered(sub: SubscriberLog, id: string, key: string): void {
    const index = this.byKey.get(key);
    if (index === undefined) {
      sub.unknown.push(key);
      sub.events.push(-sub.unknown.length);
    } else sub.events.push(index);
    const [rank, n] = this.pos(id);
    sub.epochs.push(rank);
    sub.ns.push(n);
  }

  /** `sub` received a herald.missed event. */
  missedSignal(sub: SubscriberLog, id: string, data: string): void {
    sub.missed.push({ after: sub.events.length, id, data });
  }

  private pos(id: string): Pos {
    const m = /^(.+)-(\d+)$/.exec(id);
    if (m === null) return [Number.NaN, Number.NaN];
    let rank = this.epochRanks.get(m[1]!);
    if (rank === undefined) {
      rank = this.epochRanks.size;
      this.epochRanks.set(m[1]!, rank);
    }
    return [rank, Number(m[2])];
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

  const acked = history.events.filter((e) => e.ack !== undefined);
  const ackOrder = zero();
  checkAckOrder(acked, (text, event) => flag("ack-order", ackOrder, text, event));

  let delivered = 0;
  let expectedTotal = 0;
  let missedTotal = 0;
  let coveredTotal = 0;
  const perSubscriber: SubscriberCounts[] = [];
  for (const sub of history.subscribers) {
    const counts = zero();
    const seen = new Uint8Array(history.events.length);
    /** Gaps covered by herald.missed: open intervals between the neighbouring deliveries. */
    const gaps: { from: Pos; to: Pos }[] = [];
    let last: Pos = [Number.NEGATIVE_INFINITY, 0];
    let signal = 0;
    const n = sub.events.length;
    for (let i = 0; i <= n; i++) {
      const p: Pos = i < n ? [sub.epochs[i]!, sub.ns[i]!] : [Number.POSITIVE_INFINITY, 0];
      if (signal < sub.missed.length && sub.missed[signal]!.after === i) {
        gaps.push({ from: last, to: p });
        while (signal < sub.missed.length && sub.missed[signal]!.after === i) signal++;
      }
      if (i === n) break;
      const index = sub.events[i]!;
      if (index < 0) {
        flag(
          "unknown",
          counts,
          `${sub.name} got ${JSON.stringify(sub.unknown[-index - 1])}, never published`,
          undefined,
        );
        continue;
      }
      const event = history.events[index]!;
      if (event.ack !== undefined && !samePos(event.ack.pos, p))
        flag(
          "id-mismatch",
          counts,
          `${sub.name} got ${event.key} at ${describePos(p)}, answered ${event.ack.id}`,
          event,
        );
      if (!anyMatch(sub.selectors, event.topics))
        flag(
          "wrong-topic",
          counts,
          `${sub.name} (${sub.selectors}) got ${event.key} on ${event.topics}`,
          event,
        );
      else if (!visible(sub, event))
        flag(
          "private-leak",
          counts,
          `${sub.name} (claim ${sub.privateSelectors}) got private ${event.key}`,
          event,
        );
      if (seen[index] === 1)
        flag("duplicate", counts, `${sub.name} got ${event.key} (${describePos(p)}) again`, event);
      seen[index] = 1;
      if (!before(last, p))
        flag(
          "order",
          counts,
          `${sub.name} got ${event.key} at ${describePos(p)} after ${describePos(last)}`,
          event,
        );
      last = p;
    }
    delivered += n;
    missedTotal += sub.missed.length;

    let expected = 0;
    let covered = 0;
    const lost: string[] = [];
    if (sub.openedAt !== undefined) {
      for (const event of acked) {
        if (event.sentAt < sub.openedAt || !visible(sub, event)) continue;
        expected++;
        if (seen[event.index] === 1) continue;
        const p = event.ack!.pos;
        if (gaps.some((g) => before(g.from, p) && before(p, g.to))) covered++;
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
      delivered: n,
      missedSignals: sub.missed.length,
      covered,
      violations: counts,
    });
  }
  const sum = VIOLATION_KINDS.reduce((k, kind) => k + total[kind], 0);
  return {
    sent: history.events.length,
    acknowledged: acked.length,
    unacknowledged: history.events.length - acked.length,
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
  return Number.isNaN(p[0]) ? "an id not of the form <epoch>-<n>" : `position ${p[1]} of epoch #${p[0]}`;
}

const samePos = (a: Pos, b: Pos) => a[0] === b[0] && a[1] === b[1];

/** Each publisher's acknowledged events, in the order it sent them, must hold increasing positions. */
function checkAckOrder(acked: readonly SentEvent[], flag: (text: string, event: SentEvent) => void) {
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
      if (!before(prev.ack!.pos, cur.ack!.pos))
        flag(
          `${publisher}: ${cur.key} stored as ${cur.ack!.id}, not after ${prev.key} (${prev.ack!.id})`,
          cur,
        );
    }
  }
}
