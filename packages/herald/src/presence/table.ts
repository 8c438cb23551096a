import type { PresenceMessage } from "./channel.ts";
import { apply, type Change, fromWire, type NodeCounts, type TopicView, viewOf } from "./counts.ts";

interface Peer {
  counts: NodeCounts;
  /** Forgotten after this time (ms, the caller's clock): its last message's time + its TTL. */
  until: number;
  /** Its TTL, as its last message said. */
  ttlMs: number;
  /** The last message's sequence number; a gap makes the peer wait for its next snapshot. */
  seq: number;
  synced: boolean;
  /** Past its warm-up, as its last message said: it may lead. */
  warm: boolean;
}

/** A change of a topic's cluster-wide presence, as the elected node announces it. */
export type Transition =
  | { readonly type: "join" | "leave"; readonly topic: string; readonly sub: string }
  | { readonly type: "occupied" | "vacated"; readonly topic: string };

/**
 * The cluster's presence as one node sees it: its own counts (exact) and each peer's, as last
 * heard (no I/O; the caller gives the time). A peer's entry expires `ttlMs` after its last message:
 * a node that dies or is cut off leaves no ghost beyond that bound.
 *
 * Peers send a full `snapshot` every heartbeat and `delta`s in between, numbered: a delta that does
 * not follow the last message heard (one was lost) leaves the peer's counts as they are until its
 * next snapshot replaces them (at most one heartbeat later).
 */
export class PresenceTable {
  readonly local: NodeCounts = new Map();
  private readonly peers = new Map<string, Peer>();
  /** Topics whose view may have changed since the last `transitions`. */
  private readonly dirty = new Set<string>();
  /** The view of every topic at the last `transitions` (its baseline). */
  private readonly seen = new Map<string, TopicView>();

  constructor(readonly node: string) {}

  /** A stream of this node joined (delta 1) or left (-1) a watched topic. */
  change(change: Change): void {
    apply(this.local, change);
    this.dirty.add(change[0]);
  }

  /** A peer's message (this node's own are ignored). */
  receive(message: PresenceMessage, now: number): void {
    if (message.node === this.node) return;
    if (message.kind === "bye") {
      this.forget(message.node);
      return;
    }
    const until = now + message.ttlMs;
    const peer = this.peers.get(message.node);
    if (message.kind === "snapshot") {
      const counts = fromWire(message.counts);
      for (const topic of peer?.counts.keys() ?? []) this.dirty.add(topic);
      for (const topic of counts.keys()) this.dirty.add(topic);
      const warm = message.warm !== false;
      this.peers.set(message.node, {
        counts,
        until,
        ttlMs: message.ttlMs,
        seq: message.seq,
        synced: true,
        warm,
      });
      return;
    }
    if (peer === undefined) return; // its next snapshot brings it in
    peer.until = until;
    peer.ttlMs = message.ttlMs;
    peer.warm = message.warm !== false;
    if (!peer.synced || message.seq !== peer.seq + 1) {
      peer.synced = false;
      return;
    }
    peer.seq = message.seq;
    for (const change of message.changes) {
      apply(peer.counts, change);
      this.dirty.add(change[0]);
    }
  }

  /** Forgets the peers not heard from within their TTL; answers how many. */
  expire(now: number): number {
    let gone = 0;
    for (const [node, peer] of this.peers) {
      if (peer.until <= now) {
        this.forget(node);
        gone++;
      }
    }
    return gone;
  }

  /**
   * Every peer's TTL starts again at `now`, `graceMs` later (this node could not hear them until
   * now). A peer heard from again gets its TTL from that message, as always.
   */
  extend(now: number, graceMs = 0): void {
    for (const peer of this.peers.values()) peer.until = Math.max(peer.until, now + graceMs + peer.ttlMs);
  }

  /** Was `node` heard from within its TTL? */
  knows(node: string): boolean {
    return this.peers.has(node);
  }

  /** The nodes heard from within their TTL (not this one). */
  peerNodes(): IterableIterator<string> {
    return this.peers.keys();
  }

  /** The peers that may lead: heard within their TTL, past their warm-up. */
  *warmPeers(): Generator<string> {
    for (const [node, peer] of this.peers) if (peer.warm) yield node;
  }

  /** `topic` over the whole cluster. */
  view(topic: string): TopicView {
    return viewOf(topic, this.all());
  }

  /**
   * What changed on the topics touched since the last call, against the views of that call: a
   * sub that appeared (join) or left (leave), a topic that got its first stream (occupied) or lost
   * its last (vacated). Every node computes them, so whichever node leads next starts from the
   * same baseline; only the leader announces them.
   */
  transitions(): Transition[] {
    const out: Transition[] = [];
    for (const topic of this.dirty) {
      const before = this.seen.get(topic) ?? EMPTY;
      const after = this.view(topic);
      if (before.count === 0 && after.count > 0) out.push({ type: "occupied", topic });
      for (const sub of after.subs) if (!before.subs.has(sub)) out.push({ type: "join", topic, sub });
      for (const sub of before.subs) if (!after.subs.has(sub)) out.push({ type: "leave", topic, sub });
      if (before.count > 0 && after.count === 0) out.push({ type: "vacated", topic });
      if (after.count === 0) this.seen.delete(topic);
      else this.seen.set(topic, after);
    }
    this.dirty.clear();
    return out;
  }

  private forget(node: string): void {
    const peer = this.peers.get(node);
    if (peer === undefined) return;
    for (const topic of peer.counts.keys()) this.dirty.add(topic);
    this.peers.delete(node);
  }

  private *all(): Generator<NodeCounts> {
    yield this.local;
    for (const peer of this.peers.values()) yield peer.counts;
  }
}

const EMPTY: TopicView = { count: 0, subs: new Set() };
