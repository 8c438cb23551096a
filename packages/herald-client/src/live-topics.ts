import { safeJson } from "./parse.ts";
import { changeTopics, postTopicChange } from "./topics.ts";
import { HeraldClientError } from "./transport.ts";
import type { ConnectionState } from "./types.ts";

/** What LiveTopics needs of its subscription. */
export interface LiveTopicsOwner {
  state(): ConnectionState;
  /** Ends the current connection and connects again at once (resuming after the last id). */
  reconnectNow(): void;
}

/** How long a change waits for an open stream's first event (Herald sends `herald.stream` at once). */
const ANNOUNCE_WAIT_MS = 5_000;

/**
 * The open stream as its `herald.stream` event told it, and the token its connection was opened
 * with: the token the stream holds, the only one Herald takes for its changes (docs/streams.md).
 * A token function is not called again for a change: a fresh token would get 403. `topics`: what
 * the hub holds, as its last word (the announcement, or the answer to a change) said.
 */
interface HeldStream {
  readonly id: string;
  readonly token: string | undefined;
  topics: readonly string[];
}

/**
 * The topics of one subscription, and their changes while its stream is open: `POST
 * /streams/{id}/topics` once the stream's `herald.stream` event told its id, else a reconnect with
 * the new set. Changes run one after the other, in call order. Every connection asks for `topics`
 * (`request()`).
 *
 * Contracts:
 * - a change made while the stream is open but has not announced itself yet (Herald sends
 *   `herald.stream` first, so the response is open a moment before) waits for the announcement; it
 *   reconnects only when the stream's first event is another one (a hub without live changes);
 * - whatever fails, the stream ends up holding `topics`: a change the hub refused (an answer:
 *   400, 403, 429) rejects and puts the topics back; one whose request failed without an answer
 *   (the network, a 5xx: the hub may have applied it or not) rejects, puts the topics back and
 *   reconnects, since the stream's set is then unknown; a new stream whose announced set differs
 *   from `topics` (asked for before a change) is sent the difference, and reconnected when that fails;
 * - no gap for a change made while a connection's request is on its way (asked for the old set): it
 *   resolves at once, so the events of its added topics from then on are owed, and a difference
 *   would add them only from the hub's position when it arrives. When that stream announces a set
 *   lacking some of `topics` and has a resume point (`Last-Event-ID` sent, or the position the hub
 *   answered with), it is left at once for one asking for `topics` after the same point, whose
 *   replay holds them; the owner drops whatever the left connection still delivers. Without a
 *   resume point (the browser's EventSource before its first event), the difference is sent.
 */
export class LiveTopics {
  private list: readonly string[];
  private stream: HeldStream | undefined;
  /** What the connection on its way asked for (`request()`); undefined between connections. */
  private asked: readonly string[] | undefined;
  /** A change added topics that `asked` lacks, and resolved: this connection must catch up (contracts). */
  private behind = false;
  /** Whether this connection said if it announces itself (its first event came). */
  private said = false;
  /** Changes waiting for this connection's first event. */
  private waiting: (() => void)[] = [];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    initial: readonly string[],
    private readonly hub: { url: string | URL; withCredentials: boolean; fetch: typeof fetch },
    private readonly owner: LiveTopicsOwner,
  ) {
    this.list = initial;
  }

  /** The topics of the stream, or those the next connection asks for. */
  get topics(): readonly string[] {
    return this.list;
  }

  get streamId(): string | undefined {
    return this.stream?.id;
  }

  /** The topics a new connection asks for, now: every connection's URL is built from them. */
  request(): readonly string[] {
    this.asked = this.list;
    this.behind = false;
    return this.list;
  }

  /** A connection starts or ended: its stream id no longer holds. */
  forgetStream(): void {
    this.stream = undefined;
    this.asked = undefined;
    this.said = false;
    this.wake();
  }

  /**
   * The connection's first event was not `herald.stream`: a hub without live changes. If a change
   * was recorded while its request was on its way, reconnect (with `topics`, after the last id).
   */
  unannounced(): void {
    if (this.said) return;
    this.said = true;
    if (this.behind) this.owner.reconnectNow();
    this.wake();
  }

  /**
   * herald.stream: remember the id, with `token`, the one this connection was opened with; if the
   * stream was asked for before a change, send the difference (to this stream, with that token), or
   * reconnect when a change that already resolved added topics it lacks and it can be resumed
   * (`resumable`: the connection has a resume point, and no event of it moved it yet).
   */
  opened(text: string, token: string | undefined, resumable: boolean): void {
    const body = safeJson(text) as { id?: unknown; topics?: unknown } | undefined;
    if (typeof body?.id !== "string") {
      this.unannounced();
      return;
    }
    const topics = Array.isArray(body.topics) ? body.topics.filter((t) => typeof t === "string") : [];
    if (this.behind && resumable && this.list.some((t) => !topics.includes(t))) {
      this.owner.reconnectNow(); // waiting changes wake at the end (forgetStream): the next one asks for them
      return;
    }
    const stream: HeldStream = { id: body.id, token, topics };
    this.stream = stream;
    this.said = true;
    this.wake();
    this.queue = this.queue.then(() => this.sync(stream));
  }

  /** `lists`: [add, remove], or throws the TypeError of bad input (the promise rejects with it). */
  change(lists: () => [string[], string[]]): Promise<readonly string[]> {
    let add: string[];
    let remove: string[];
    try {
      [add, remove] = lists();
    } catch (error) {
      return Promise.reject(error);
    }
    const change = async (): Promise<readonly string[]> => {
      if (this.owner.state() === "closed") throw new HeraldClientError("the subscription is closed");
      const before = this.list;
      const next = changeTopics(before, add, remove);
      if (next.length === 0) throw new TypeError("remove: no topic would be left; close() the subscription");
      this.list = next;
      if (this.owner.state() !== "open") {
        // the next connection asks for them; one on its way without them catches up (`opened`)
        if (this.asked !== undefined && next.some((t) => !this.asked?.includes(t))) this.behind = true;
        return next;
      }
      if (!this.said) await this.firstEvent();
      const stream = this.stream;
      if (stream === undefined) {
        // a hub without live changes; or the connection ended meanwhile: the next one asks for them
        if (this.said && this.owner.state() === "open") this.owner.reconnectNow();
        return next;
      }
      try {
        await this.post(stream);
        return this.list;
      } catch (error) {
        this.list = before;
        if (!(error instanceof Refused)) this.resync(stream);
        throw error instanceof Refused ? error.error : error;
      }
    };
    const result = this.queue.then(change, change);
    this.queue = result.catch(() => {});
    return result;
  }

  /** Resolves at this connection's first event, its end, or after `ANNOUNCE_WAIT_MS` (then: unannounced). */
  private firstEvent(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.unannounced(), ANNOUNCE_WAIT_MS);
      this.waiting.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }

  /** Brings a newly announced stream to `topics`; reconnects when that fails. */
  private async sync(stream: HeldStream): Promise<void> {
    try {
      await this.post(stream);
    } catch {
      this.resync(stream);
    }
  }

  /**
   * After a request that failed: the stream's set is unknown (or refused), so reconnect if it is
   * still the current one (the new connection asks for `topics`); a newer stream was, or will be,
   * brought to `topics` by `sync` when it announced itself.
   */
  private resync(stream: HeldStream): void {
    if (this.stream === stream) {
      this.owner.reconnectNow();
    } else if (this.stream !== undefined) {
      const current = this.stream;
      this.queue = this.queue.then(() => this.sync(current));
    }
  }

  /**
   * Asks the hub to bring `stream` from what it holds to `topics`, with the token the stream holds;
   * nothing when they agree, or when the stream is gone (404: the reconnect asks for `topics`, with
   * its own fresh token). Throws `Refused` for an answer that refuses, the fetch error otherwise.
   */
  private async post(stream: HeldStream): Promise<void> {
    if (this.stream !== stream) return; // a newer connection asks for `topics`
    const want = this.list;
    const add = want.filter((t) => !stream.topics.includes(t));
    const remove = stream.topics.filter((t) => !want.includes(t));
    if (add.length === 0 && remove.length === 0) return;
    const answer = await postTopicChange({
      ...this.hub,
      streamId: stream.id,
      add,
      remove,
      token: stream.token,
    });
    if ("topics" in answer) {
      stream.topics = answer.topics;
      if (this.stream === stream) this.list = answer.topics;
      return;
    }
    if (answer.error.status === 404) return;
    if (answer.error.status >= 400 && answer.error.status < 500) throw new Refused(answer.error);
    throw answer.error;
  }
}

/** The hub answered and refused a change (400, 403, 429): it did not apply it. */
class Refused extends Error {
  constructor(readonly error: HeraldClientError) {
    super(error.message);
  }
}
