import { Backoff } from "../backoff.ts";
import { HeraldClientError } from "../transport.ts";
import type { ConnectionState, SubscribeOptions } from "../types.ts";
import { MISSED_EVENT_TYPE } from "../types.ts";
import type { Deliver, HostMessage, SharedStreamOptions, WireError } from "./messages.ts";
import { toWire } from "./messages.ts";

/** What the host needs of a subscription (the SDK's own Subscription, without sharing). */
export interface Upstream {
  readonly lastEventId: string | undefined;
  readonly state: ConnectionState;
  /** Live topic changes (`POST /streams/{id}/topics`): applied in call order. */
  add(topics: readonly string[]): Promise<readonly string[]>;
  remove(topics: readonly string[]): Promise<readonly string[]>;
  close(): void;
}
/**
 * Opens the upstream. It must ask the hub to tag events (`matched=1`) and call `onMatched` with
 * the topics each event matched, right before its `onEvent`/`onMissed` (undefined: the hub's own).
 */
export type MakeUpstream = (
  options: SubscribeOptions<string>,
  onMatched: (topics: readonly string[] | undefined) => void,
) => Upstream;

interface Member {
  readonly deliver: Deliver | undefined;
  readonly topics: readonly string[];
}

/**
 * The one real stream behind a group of tabs (same hub, token, headers, credentials mode: see
 * `shareKey`), and who is on it. Runs in the SharedWorker, or in the leader tab. Each member is a
 * subscription in some tab, with topics of its own; it is dropped on `leave`, or when the host
 * gets the member's Web Lock (the tab closed or crashed: the browser released it).
 *
 * Topics: the stream has the union of the members' topics. A member that brings topics the stream
 * lacks adds them (`POST /streams/{id}/topics`), one member's at a time and only while the stream
 * is open, so that the hub's answer is about them alone: a refusal (400, 403: a bad topic, too many)
 * ends the members that need them (`fatal` with `member`), never the stream nor the others; no
 * answer (the network, a 5xx) or 429 is retried with backoff until it is added. Until then they are
 * not on the stream, nor asked by its reconnects. A stream that ends for good at connection (a 4xx)
 * ends the members that need one of the topics it asked for; the others get a new stream (`failed`).
 * When the last member needing a topic leaves, it is removed.
 *
 * Events: the hub tags each with the topics it matched (`matched=1`, docs/streams.md). Every member
 * and `post` (a BroadcastChannel) get every event with its topics, the hub's own (`herald.missed`),
 * the stream's state and its topics: each tab keeps the events of its own topics (`isFor`) and
 * follows the stream's position and topics, so that any tab can start the stream again where it
 * stood (a leader handover; a SharedWorker that died). A member that joins late gets the stream's
 * state and resume point first, then live events (not those sent before it joined; of a topic it
 * added, those after the addition).
 */
export class StreamHost {
  private readonly members = new Map<string, Member>();
  /** Members whose Web Lock the host watches: only its release drops them (`leaveAsked`). */
  private readonly locked = new Set<string>();
  private upstream: Upstream;
  private readonly stop = new AbortController();
  /** The topics asked of the hub: the members' (and, after a handover, the old leader's until a tab leaves). */
  private wanted: string[];
  /** Members' topics the stream lacks, one batch per join, added in order while the stream is open. */
  private pending: string[][] = [];
  /** Whether an add of `pending[0]` is out, or waits for its retry. */
  private adding = false;
  /** Delays between the retries of an add that got no answer, or 429. */
  private readonly retry: Backoff;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** The topics the event being delivered matched (set right before its `onEvent`). */
  private matched: readonly string[] | undefined;
  private lastState: HostMessage | undefined;
  private closed = false;

  constructor(
    private readonly options: SharedStreamOptions,
    private readonly makeUpstream: MakeUpstream,
    private readonly post: Deliver | undefined,
    /** Called when a member left; `empty`: it was the last, the host closed. */
    private readonly onLeave: (member: string, empty: boolean) => void = () => {},
  ) {
    this.wanted = [...new Set(options.topics)];
    this.retry = new Backoff(options.initialDelayMs ?? 1000, options.maxDelayMs ?? 30_000);
    this.upstream = this.start(options.lastEventId);
  }

  /** Opens the stream with the topics in `wanted`, resuming after `lastEventId`. */
  private start(lastEventId: string | undefined): Upstream {
    const options = this.options;
    return this.makeUpstream(
      {
        url: options.url,
        topics: [...this.wanted],
        token: options.token,
        headers: options.headers,
        withCredentials: options.withCredentials,
        lastEventId,
        initialDelayMs: options.initialDelayMs,
        maxDelayMs: options.maxDelayMs,
        idleTimeoutMs: options.idleTimeoutMs,
        transport: "fetch", // every event type, headers for the token, and the matched comments
        parse: (text) => text,
        onEvent: (m) =>
          this.send({
            t: "event",
            id: m.id === "" ? undefined : m.id,
            type: m.type,
            data: m.text,
            matched: this.matched,
          }),
        onMissed: (info) =>
          this.send({
            t: "event",
            id: info.resumeId,
            type: MISSED_EVENT_TYPE,
            data: JSON.stringify({ lastEventId: info.lastEventId, reason: info.reason }),
            matched: undefined,
          }),
        onStateChange: (change) => {
          if (change.state === "open") {
            const at = this.upstream?.lastEventId;
            if (at !== undefined) this.send({ t: "at", id: at });
            this.lastState = { t: "state", state: "open" };
            this.send(this.lastState);
            this.addPending();
          } else if (change.state === "reconnecting") {
            const { delayMs, attempt } = change;
            this.lastState = {
              t: "state",
              state: "reconnecting",
              error: toWire(change.error),
              delayMs,
              attempt,
            };
            this.send(this.lastState);
          }
        },
        onError: (error) => this.failed(error),
      },
      (topics) => {
        this.matched = topics;
      },
    );
  }

  /**
   * The stream ended for good (a 4xx at connection: a bad topic, a token refused): the members that
   * need one of the topics it asked for end with its error. Members whose topics were all still
   * pending (they joined while it connected) asked for none of it: they get a new stream of their
   * topics, resuming where this one stood (and end in turn if it fails too).
   */
  private failed(error: Error): void {
    const asked = this.wanted;
    const rest = new Set<string>();
    for (const { topics } of this.members.values()) {
      if (!topics.some((topic) => asked.includes(topic))) for (const topic of topics) rest.add(topic);
    }
    clearTimeout(this.retryTimer);
    this.adding = false;
    this.pending = [];
    this.wanted = [...rest];
    this.sendTopics(); // first: a tab that takes over (the leader's tab may end) starts with these
    this.end(asked, error);
    if (!this.closed && rest.size > 0) this.upstream = this.start(this.upstream.lastEventId);
  }

  /**
   * Adds a member (again: harmless) with its topics; those the stream lacks are added to it.
   * `lock`: the Web Lock its tab holds while it lives.
   */
  join(
    member: string,
    deliver: Deliver | undefined,
    lock: string | undefined,
    topics: readonly string[],
  ): void {
    if (this.closed) return;
    const known = this.members.has(member);
    this.members.set(member, { deliver, topics });
    const to = deliver ?? this.post;
    if (this.lastState !== undefined) to?.(this.lastState);
    const at = this.upstream.lastEventId;
    if (at !== undefined) to?.({ t: "at", id: at });
    const fresh = topics.filter(
      (topic) => !this.wanted.includes(topic) && !this.pending.flat().includes(topic),
    );
    if (fresh.length > 0) {
      this.pending.push(fresh);
      this.addPending();
    }
    this.sendTopics(to); // also when none is new: a tab that joined after the last change learns them
    if (known) return;
    this.sendCount();
    if (lock !== undefined) {
      this.locked.add(member);
      navigator.locks.request(lock, { signal: this.stop.signal }, () => this.leave(member)).catch(() => {}); // aborted: the host closed first
    }
  }

  /**
   * A `leave` message for `member`. Ignored for a member whose lock the host watches: any page of
   * the origin can post on the channel and list the lock names (`navigator.locks.query()`), so a
   * message could close the stream of every tab; the release of the member's own lock (when it
   * leaves or closes) is what drops it.
   */
  leaveAsked(member: string): void {
    if (!this.locked.has(member)) this.leave(member);
  }

  leave(member: string): void {
    this.locked.delete(member);
    if (!this.members.delete(member) || this.closed) return;
    const empty = this.members.size === 0;
    if (empty) this.close();
    else {
      this.sendCount();
      this.dropUnneeded();
    }
    this.onLeave(member, empty);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.stop.abort();
    this.upstream.close();
  }

  /**
   * Adds the first pending batch to the stream (those of its topics a member still needs), then the
   * next: only while the stream is open (a reconnect then asks only for topics the hub took; the
   * opening calls this again), one request at a time.
   */
  private addPending(): void {
    if (this.closed || this.adding || this.upstream?.state !== "open") return;
    const needed = this.needed();
    const missing = (topic: string) => needed.has(topic) && !this.wanted.includes(topic);
    while (this.pending.length > 0 && !this.pending[0]?.some(missing)) this.pending.shift(); // their members left
    const batch = this.pending[0]?.filter(missing);
    if (batch === undefined) return;
    this.adding = true;
    const upstream = this.upstream;
    upstream.add(batch).then(
      () => {
        if (this.upstream !== upstream) return; // it failed meanwhile: `failed` started again
        this.adding = false;
        this.pending.shift();
        this.retry.reset();
        this.wanted.push(...batch);
        this.sendTopics();
        this.dropUnneeded(); // a member that needed them may have left meanwhile
        this.addPending();
      },
      (error: unknown) => {
        if (this.upstream !== upstream) return;
        if (isRefusal(error)) {
          this.adding = false;
          this.pending.shift();
          this.end(batch, error);
          this.addPending();
          return;
        }
        // no answer (the upstream reconnects: the stream's set is unknown) or 429: again later
        this.retryTimer = setTimeout(() => {
          this.adding = false;
          this.addPending();
        }, this.retry.next());
      },
    );
  }

  /** The topics some member needs. */
  private needed(): Set<string> {
    const needed = new Set<string>();
    for (const { topics } of this.members.values()) for (const topic of topics) needed.add(topic);
    return needed;
  }

  /** Removes from the stream the topics no member needs any more. */
  private dropUnneeded(): void {
    const needed = this.needed();
    const unneeded = this.wanted.filter((topic) => !needed.has(topic));
    if (unneeded.length === 0) return;
    this.wanted = this.wanted.filter((topic) => needed.has(topic));
    this.sendTopics();
    // a refusal leaves them on the stream: their events then reach no member
    this.upstream.remove(unneeded).catch(() => {});
  }

  /**
   * The hub refused `topics` (a bad topic, too many): the members that need one of them end with its
   * error (each is told alone; it leaves when its subscription ends).
   */
  private end(topics: readonly string[], error: unknown): void {
    const wire: WireError = toWire(error instanceof Error ? error : undefined);
    for (const [member, { deliver, topics: own }] of [...this.members]) {
      if (!own.some((topic) => topics.includes(topic))) continue;
      const fatal: HostMessage = { t: "fatal", error: wire, member };
      if (deliver !== undefined) deliver(fatal);
      else this.post?.(fatal);
    }
  }

  private sendCount(): void {
    this.send({ t: "tabs", count: this.members.size });
  }

  /** Tells the tabs (or the one joining: `to`) the stream's topics: a tab that starts the stream again starts with them. */
  private sendTopics(to?: Deliver): void {
    if (this.closed) return;
    const message: HostMessage = { t: "topics", topics: [...this.wanted] };
    if (to !== undefined) to(message);
    else this.send(message);
  }

  private send(message: HostMessage): void {
    if (this.closed) return;
    this.post?.(message);
    for (const { deliver } of this.members.values()) deliver?.(message);
  }
}

/** An answer that refuses the topics themselves (400 bad topic, 403 not allowed; not 408, 429). */
function isRefusal(error: unknown): boolean {
  if (!(error instanceof HeraldClientError)) return false;
  const { status } = error;
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}
