import { performance } from "node:perf_hooks";
import { selectorMatches, type TopicSelector } from "../core/topic.ts";
import type { Leadership, PresenceChannel, PresenceMessage } from "./channel.ts";
import { type Change, toWire } from "./counts.ts";
import { newNodeId } from "./lowest-leads.ts";
import { PRESENCE_PREFIX, presenceTopicOf } from "./reserved.ts";
import { PresenceTable, type Transition } from "./table.ts";

/** The identity of a stream for presence: a token's `sub`, or null (anonymous, or no `sub`). */
export type Identity = string | null;

/**
 * The one hook of presence in the stream path: a stream with identity X joined or left topics Y.
 * `Streams` reaches it through a `StreamWatcher` (presence/watcher.ts); a live change of a stream's
 * topics calls it with the topics added or removed. Calls for one stream pair up (every `joined`
 * is followed by a `left` of the same topics); topics not watched are ignored. Never throws.
 */
export interface SubscriberPresence {
  joined(identity: Identity, topics: readonly string[]): void;
  left(identity: Identity, topics: readonly string[]): void;
}

/** What presence reports besides its answers: webhooks and the `$presence/<topic>` events. */
export interface PresenceEvents {
  /** A stream of this node joined (`connected`) or left (`disconnected`) a watched topic. */
  local?(type: "connected" | "disconnected", topic: string, sub: Identity): void;
  /** A cluster-wide transition, on the leading node only. */
  transition?(transition: Transition): void;
}

/** The publish of the join and leave events (the hub's, with `private: true`). */
export type PublishPresence = (topic: string, data: string) => Promise<unknown>;

export interface PresenceOptions {
  /** The topics presence is on for (`--presence`). */
  readonly watched: readonly TopicSelector[];
  /** Heartbeat period (`--presence-heartbeat`); entries live 3 of them. */
  readonly heartbeatMs: number;
  readonly channel: PresenceChannel;
  readonly leadership: Leadership;
  /** False for a node alone (nothing to hear before it leads); true in a cluster. */
  readonly warmUp: boolean;
  readonly publish: PublishPresence;
  /**
   * False while `publish` cannot store (the bus's broker is out of reach, or its connection not yet
   * moved to a new primary: `Bus.status()`): then this node does not lead, so a node that could
   * not announce never holds the lead. Absent: always true.
   */
  readonly canPublish?: () => boolean;
  readonly events?: PresenceEvents;
  readonly log: { warn(fields: object, message: string): void };
}

/** Presence entries of a node are forgotten this many heartbeats after its last message. */
export const TTL_HEARTBEATS = 3;
/**
 * A node of a cluster may lead only after a warm-up: this many heartbeats after it started, at most
 * WARM_UP_MAX_MS. Every live node answers a node it has not heard with its snapshot at once, so by
 * then this node has heard them all.
 */
export const WARM_UP_HEARTBEATS = 2;
export const WARM_UP_MAX_MS = 2000;

/**
 * Presence of one node in its cluster (docs/presence.md): counts its streams on watched topics,
 * tells the other nodes (a delta at the end of each event-loop turn with changes, a snapshot every
 * heartbeat) over the `PresenceChannel`, and keeps what they tell it (`PresenceTable`).
 *
 * Bound (no ghosts): a node that dies or is stopped is forgotten by the others at most
 * TTL = 3 heartbeats after its last message (plus one heartbeat, when the others check).
 * The leading node (`Leadership`, a lease of 2 heartbeats renewed every heartbeat) announces
 * the cluster's transitions; a transition computed while no node holds a valid lease (a
 * handover, at most 2 heartbeats) is not announced: at most once.
 */
export class Presence implements SubscriberPresence {
  /** Sorts by start time (`newNodeId`): where the lowest id leads, the eldest node does. */
  readonly node = newNodeId();
  readonly ttlMs: number;
  readonly table = new PresenceTable(this.node);
  readonly counters = { joins: 0, leaves: 0, messagesSent: 0, messagesReceived: 0, expired: 0 };
  private seq = 0;
  private changes: Change[] = [];
  private flushing = false;
  private timer: NodeJS.Timeout | undefined;
  private leaseUntil = 0;
  /** The answer of the last claim: a lapsed lease is renewed before announcing only then. */
  private claimed = false;
  /** Announcements in order, each after the lease check before it. */
  private announcing: Promise<void> = Promise.resolve();
  /** Past the warm-up (at once for a node alone): it may lead, and its transitions are announced. */
  private warm: boolean;
  /**
   * What this node counts during its warm-up was announced by another node (or lost in a leader
   * handover): a leading peer was heard, or a peer that was warm before this warm-up began. Then
   * its warm-up's transitions are dropped.
   */
  private announcedElsewhere = false;
  /**
   * Transitions of peers forgotten during a warm-up that `announcedElsewhere` covers: announced by
   * nobody (a forgotten node announces nothing), so kept for the end of the warm-up, when this
   * node announces them if it leads.
   */
  private forgottenInWarmUp: Transition[] = [];
  /** When this warm-up began, and when the last one ended (monotonic ms). */
  private warmUpFrom = 0;
  private warmSince = 0;
  private readonly warmUpMs: number;
  private warmUpTimer: NodeJS.Timeout | undefined;
  /** When the last heartbeat ran (monotonic ms): a late one means this node was paused. */
  private lastBeat = 0;
  /**
   * Since when (monotonic ms) the channel has said it cannot hear the others, at the heartbeats
   * since it last could; undefined while it hears.
   */
  private deafSince: number | undefined;
  private closed = false;

  constructor(private readonly options: PresenceOptions) {
    this.ttlMs = TTL_HEARTBEATS * options.heartbeatMs;
    this.warm = !options.warmUp;
    this.warmUpMs = Math.min(WARM_UP_HEARTBEATS * options.heartbeatMs, WARM_UP_MAX_MS);
  }

  async start(): Promise<void> {
    await this.options.channel.start((message) => this.receive(message));
    this.timer = setInterval(() => void this.heartbeat(), this.options.heartbeatMs);
    this.timer.unref();
    if (!this.warm) this.warmUp();
    this.lastBeat = performance.now();
    this.sendSnapshot();
    await this.heartbeat();
  }

  /** (Re)starts the warm-up: no lead, no announcement until `endWarmUp`. */
  private warmUp(): void {
    this.warm = false;
    this.announcedElsewhere = false;
    this.forgottenInWarmUp = [];
    this.warmUpFrom = performance.now();
    this.leaseUntil = 0;
    this.claimed = false;
    clearTimeout(this.warmUpTimer);
    this.warmUpTimer = setTimeout(() => void this.endWarmUp(), this.warmUpMs);
    this.warmUpTimer.unref();
  }

  /** Is presence on for `topic`? Exact names only (a `$presence/` topic never is). */
  watches(topic: string): boolean {
    if (topic.startsWith(PRESENCE_PREFIX)) return false;
    return this.options.watched.some((selector) => selectorMatches(selector, topic));
  }

  joined(identity: Identity, topics: readonly string[]): void {
    this.update(identity, topics, 1);
  }

  left(identity: Identity, topics: readonly string[]): void {
    this.update(identity, topics, -1);
  }

  /** `topic` cluster-wide, as this node knows it now. */
  view(topic: string): { topic: string; count: number; subscribers: string[] } {
    const { count, subs } = this.table.view(topic);
    return { topic, count, subscribers: [...subs].sort() };
  }

  /** True while this node holds a lease that its monotonic clock says is still valid. */
  get leading(): boolean {
    return performance.now() < this.leaseUntil;
  }

  /**
   * Before a graceful stop, once this node's streams have ended: sends the changes of this turn
   * now (rather than at its end) and, when this node leads, announces the transitions they make
   * (the `leave`s and `topic.vacated`s of its streams); resolves once announced. Then `close`.
   */
  async flush(): Promise<void> {
    if (this.closed) return;
    this.sendDelta();
    this.announce();
    await this.announcing;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.warmUpTimer);
    this.options.channel.send({ kind: "bye", node: this.node });
    await this.options.leadership.release(this.node).catch(() => {});
    await this.options.channel.close();
  }

  private update(identity: Identity, topics: readonly string[], delta: 1 | -1): void {
    for (const topic of topics) {
      if (!this.watches(topic)) continue;
      const change: Change = [topic, identity, delta];
      this.table.change(change);
      this.changes.push(change);
      if (delta > 0) this.counters.joins++;
      else this.counters.leaves++;
      this.options.events?.local?.(delta > 0 ? "connected" : "disconnected", topic, identity);
    }
    this.schedule();
  }

  private receive(message: PresenceMessage): void {
    if (this.closed || message?.node === this.node) return;
    this.counters.messagesReceived++;
    if (!this.warm && message.kind !== "bye") {
      const elder = Number(message.warmFor) > performance.now() - this.warmUpFrom;
      if (message.leads === true || elder) this.announcedElsewhere = true;
    }
    const stranger = message.kind === "snapshot" && !this.table.knows(message.node);
    this.table.receive(message, performance.now());
    if (stranger) this.sendSnapshot(); // a node just started (or came back): it hears this one now
    this.schedule();
  }

  /**
   * The end of the warm-up. The transitions counted meanwhile (a stream that came while no node
   * led: a cluster that just started) are announced by this node if it leads now, unless they
   * were announced elsewhere (`announcedElsewhere`): then they are dropped (at most once).
   */
  private async endWarmUp(): Promise<void> {
    if (this.closed) return;
    // paused during the warm-up (SIGSTOP): the others have not been heard since; start over
    if (performance.now() - this.lastBeat > this.ttlMs) {
      this.warmUp();
      return;
    }
    await this.claim(true); // meanwhile the transitions still wait
    this.warm = true;
    this.warmSince = performance.now();
    if (this.announcedElsewhere) this.table.transitions();
    this.sendSnapshot(); // the others learn at once that this node may lead
    this.announce();
  }

  /** At the end of this turn: one delta with the turn's changes, then the transitions. */
  private schedule(): void {
    if (this.flushing) return;
    this.flushing = true;
    setImmediate(() => {
      this.flushing = false;
      if (this.closed) return;
      this.sendDelta();
      this.announce();
    });
  }

  /**
   * Every heartbeat: the snapshot, then the peers not heard within their TTL are forgotten before
   * asking who leads (a dead leader must not be the answer: its transitions are the ones to
   * announce). A heartbeat that comes more than 2 heartbeats after the last one finds the others'
   * messages still unread (this node was blocked): it forgets nobody; nor while the channel cannot
   * hear (`PresenceChannel.hearing`). One that comes more than a
   * TTL late means this node was paused (SIGSTOP) long enough for the others to forget it: its view
   * is stale, so it warms up again (a warm-up under way starts over; its timer, due on resume, checks
   * the same gap first, so a resumed node never tells the others it may lead before hearing them). It leads, and announces, only once it has heard them, and
   * drops what changed meanwhile when another node led (that one announced it).
   */
  private async heartbeat(): Promise<void> {
    if (this.closed) return;
    const now = performance.now();
    const gap = now - this.lastBeat;
    this.lastBeat = now;
    if (gap > this.ttlMs && this.options.warmUp) {
      this.warmUp(); // a warm-up under way starts over too: the pause was no warm-up
      this.sendSnapshot(); // not warm: the others do not wait for this node to lead
      return;
    }
    this.sendSnapshot();
    // deaf (the broker is out of reach): the others' silence says nothing. Heard again: each peer
    // gets a fresh TTL plus as long as this node was deaf, since the outage cut the peers off too
    // and each of them comes back on its own (after a Redis failover, each node's connection
    // moves to the new primary when its own client learns of it: a second or more apart)
    const hearing = this.options.channel.hearing !== false;
    if (!hearing) this.deafSince ??= now;
    else if (this.deafSince !== undefined) {
      this.table.extend(now, now - this.deafSince);
      this.deafSince = undefined;
    }
    // late: the others' messages of the last heartbeats may still be unread; forget them next time
    if (gap <= 2 * this.options.heartbeatMs && hearing) this.forgetSilent(now);
    await this.claim();
    this.announce();
  }

  /**
   * Forgets the peers not heard within their TTL. During a warm-up that another node's
   * announcements cover (`announcedElsewhere`), what was heard until now is the baseline
   * (announced elsewhere: dropped, as at the warm-up's end), and what forgetting them changes is
   * kept (`forgottenInWarmUp`): otherwise the drop at the warm-up's end took it too, and a
   * worker that started as the last workers that counted a topic died (the primary told it their
   * counts: cluster/presence-memory.ts) never announced that topic vacated.
   */
  private forgetSilent(now: number): void {
    const keep = !this.warm && this.announcedElsewhere;
    if (keep) this.table.transitions();
    const gone = this.table.expire(now);
    this.counters.expired += gone;
    if (keep && gone > 0) this.forgottenInWarmUp.push(...this.table.transitions());
  }

  /**
   * Takes or renews the lead: a lease of 2 heartbeats, counted from before the ask, trusted for
   * 1.5 (timer jitter). A node in a cluster first warms up (WARM_UP_HEARTBEATS): it leads only once
   * it has heard every live node's snapshot. A node that cannot hear the others, or cannot publish
   * (`canPublish`), does not claim: its lease lapses and a node that can takes it. (After a Redis
   * failover each connection moves to the new primary on its own: presence's may be there while
   * the bus's is not yet, and a join announced then would be refused by the bus, so lost.) A lease
   * answered after it would no longer be trusted is given up (`release`) rather than left to lapse.
   */
  private async claim(warming = false): Promise<void> {
    const { heartbeatMs, leadership, canPublish } = this.options;
    if (!this.warm && !warming) return;
    if (this.options.channel.hearing === false || canPublish?.() === false) {
      this.claimed = false;
      this.leaseUntil = 0;
      return;
    }
    const asked = performance.now();
    const claimed = await leadership.claim(this.node, 2 * heartbeatMs, warming).catch(() => false);
    const trusted = asked + 1.5 * heartbeatMs;
    if (claimed && performance.now() >= trusted && !this.closed) {
      // answered too late to lead on: a claim a Redis client held across a failover and ran on the
      // new primary seconds later. The lease it took there would keep the others from leading for
      // 2 heartbeats while this node does not: given up at once
      this.claimed = false;
      this.leaseUntil = 0;
      await leadership.release(this.node).catch(() => {});
      return;
    }
    this.claimed = claimed;
    this.leaseUntil = claimed ? trusted : 0;
  }

  /** One delta with the changes not sent yet (none: nothing). */
  private sendDelta(): void {
    if (this.changes.length === 0) return;
    const changes = this.changes;
    this.changes = [];
    const { node, ttlMs, warm, leading: leads } = this;
    const warmFor = warm ? Math.round(performance.now() - this.warmSince) : 0;
    this.send({ kind: "delta", node, seq: ++this.seq, ttlMs, warm, leads, warmFor, changes });
  }

  private sendSnapshot(): void {
    this.changes = []; // the snapshot holds them
    const { node, ttlMs, warm, leading: leads } = this;
    const warmFor = warm ? Math.round(performance.now() - this.warmSince) : 0;
    this.send({
      kind: "snapshot",
      node,
      seq: ++this.seq,
      ttlMs,
      warm,
      leads,
      warmFor,
      counts: toWire(this.table.local),
    });
  }

  private send(message: PresenceMessage): void {
    this.counters.messagesSent++;
    this.options.channel.send(message);
  }

  /**
   * Announces the transitions since the last call when this node leads. A lease that lapsed on
   * a late timer is renewed first (when the last claim succeeded); a lead lost meanwhile (this
   * node was paused, another took over) announces nothing; a lead decided from this node's view
   * (`Leadership.fromView`) is asked again each time. During the warm-up they wait (see
   * `endWarmUp`).
   */
  private announce(): void {
    if (!this.warm) return;
    const transitions = [...this.forgottenInWarmUp.splice(0), ...this.table.transitions()];
    if (transitions.length === 0 || (!this.leading && !this.claimed)) return;
    this.announcing = this.announcing.then(async () => {
      const recheck = this.options.leadership.fromView === true || (!this.leading && this.claimed);
      if (recheck && !this.closed) await this.claim();
      if (this.leading) this.emit(transitions);
    });
  }

  private emit(transitions: readonly Transition[]): void {
    for (const transition of transitions) {
      this.options.events?.transition?.(transition);
      if (transition.type === "join" || transition.type === "leave") {
        const data = JSON.stringify({ type: transition.type, topic: transition.topic, sub: transition.sub });
        this.options.publish(presenceTopicOf(transition.topic), data).catch((error: unknown) => {
          this.options.log.warn({ err: error, topic: transition.topic }, "presence event not published");
        });
      }
    }
  }
}
