import type { History } from "./checker.ts";
import type { FaultNode } from "./nodes.ts";

/** The topics of a run: public `t/*`, mostly private `p/*` (subscribers.ts picks among them). */
export const TOPICS = ["t/0", "t/1", "t/2", "p/0", "p/1"] as const;

interface Rng {
  next(): number;
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
}

interface Body {
  topic: string | string[];
  data: string;
  private?: boolean;
  event?: string;
}

/**
 * Publishes through `POST /publish/batch` and `POST /publish` and records every event in the
 * checker's `History`: sent before the request starts, acknowledged (with the answered id) on a
 * 2xx. Event contents come from the run's seeded PRNG: topics (one or two), the private flag, the
 * event type, padding. Each event's data starts with its unique key and `|`.
 */
export class Publishers {
  private n = 0;
  /** Requests answered 2xx / refused or failed / not answered within `timeoutMs`. */
  requests = { ok: 0, failed: 0, timedOut: 0 };
  /** The first few distinct reasons requests failed ("503 ..." or an error), for the report. */
  readonly failures: string[] = [];
  private readonly seqs = new Map<string, number>();

  constructor(
    private readonly history: History,
    private readonly rng: Rng,
    /** A request not answered by then is abandoned (counted in `requests.timedOut`, not acknowledged). */
    private readonly timeoutMs: number,
  ) {}

  private event(pad: number): Body & { key: string; topics: string[] } {
    const key = `e${this.n++}`;
    const first = this.rng.pick(TOPICS);
    const topics =
      this.rng.next() < 0.15 ? [first, this.rng.pick(TOPICS.filter((t) => t !== first))] : [first];
    const onPrivate = topics.some((t) => t.startsWith("p/"));
    const isPrivate = onPrivate ? this.rng.next() < 0.7 : this.rng.next() < 0.05;
    const body: Body & { key: string; topics: string[] } = {
      key,
      topics,
      topic: topics.length === 1 ? topics[0]! : topics,
      data: `${key}|${"x".repeat(this.rng.int(pad))}`,
    };
    if (isPrivate) body.private = true;
    if (this.rng.next() < 0.2) body.event = "tick";
    return body;
  }

  /**
   * One request of `count` events to `node` (a batch, or a single publish when `count` is 1 and
   * `single`) for `publisher`, data padded with up to `pad` bytes; resolves with whether it was
   * answered 2xx.
   */
  async publish(
    node: FaultNode,
    publisher: string,
    count: number,
    options: { single?: boolean; pad?: number } = {},
  ): Promise<boolean> {
    const events = Array.from({ length: count }, () => this.event(options.pad ?? 120));
    return this.send(node, publisher, events, options.single === true && count === 1);
  }

  /**
   * A public event on `topic` (the run's closing fence, one per topic: every subscriber gets at least
   * one, and once it has one, every event before it is settled, delivery being in log order).
   */
  async fence(node: FaultNode, topic: string): Promise<boolean> {
    const key = `fence${this.n++}`;
    return this.send(node, "fence", [{ key, topics: [topic], topic, data: `${key}|` }], true);
  }

  private async send(
    node: FaultNode,
    publisher: string,
    events: (Body & { key: string; topics: string[] })[],
    single: boolean,
  ): Promise<boolean> {
    const sentAt = performance.now();
    let seq = this.seqs.get(publisher) ?? 0;
    for (const e of events) {
      this.history.send({
        key: e.key,
        topics: e.topics,
        private: e.private === true,
        node: node.index,
        publisher,
        seq: seq++,
        sentAt,
      });
    }
    this.seqs.set(publisher, seq);
    const bodies = events.map(({ key: _key, topics: _topics, ...body }) => body);
    try {
      const response = await fetch(single ? `${node.url}/publish` : `${node.url}/publish/batch`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(single ? bodies[0] : { events: bodies }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await response.text();
      if (!response.ok) {
        this.requests.failed++;
        this.noteFailure(`${response.status} ${text.slice(0, 240)}`);
        return false;
      }
      const answer = JSON.parse(text) as { id?: string; results?: { id: string }[] };
      const ids = single ? [answer.id] : (answer.results ?? []).map((r) => r.id);
      if (ids.length !== events.length || ids.some((id) => typeof id !== "string"))
        throw new Error(`a 2xx answer without one id per event: ${text.slice(0, 300)}`);
      for (const [i, e] of events.entries()) this.history.ack(e.key, ids[i]!);
      this.requests.ok++;
      return true;
    } catch (error) {
      if (error instanceof Error && error.message.startsWith("a 2xx answer")) throw error;
      if (error instanceof Error && error.name === "TimeoutError") this.requests.timedOut++;
      else {
        this.requests.failed++;
        this.noteFailure(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      }
      return false;
    }
  }

  private noteFailure(reason: string): void {
    if (this.failures.length < 5 && !this.failures.includes(reason)) this.failures.push(reason);
  }
}
