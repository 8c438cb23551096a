import type { PresenceMessage } from "../presence/channel.ts";
import { apply, fromWire, type NodeCounts, toWire } from "../presence/counts.ts";

interface Remembered {
  counts: NodeCounts;
  seq: number;
  ttlMs: number;
  /** When its last message came (ms, the caller's clock). */
  heardAt: number;
  warm: boolean | undefined;
  leads: boolean | undefined;
  warmFor: number | undefined;
}

/**
 * What the primary of `--workers` remembers of each worker's presence, from the messages it
 * relays (no I/O; the caller gives the time): to tell a worker that starts what every other worker
 * counted, alive or killed within its TTL. A replacement used to learn a worker's counts only from
 * that worker's own answer to its first snapshot: when that worker died first (both killed within
 * moments), no live process knew its streams, and their topics' `topic.vacated` was never sent.
 */
export class PresenceMemory {
  private readonly nodes = new Map<string, Remembered>();

  /** A worker's message; true when it is the first heard of that node (a worker that starts). */
  heard(message: PresenceMessage, now: number): boolean {
    if (message.kind === "bye") {
      this.nodes.delete(message.node);
      return false;
    }
    const known = this.nodes.get(message.node);
    const { seq, ttlMs, warm, leads, warmFor } = message;
    if (message.kind === "snapshot") {
      const counts = fromWire(message.counts);
      this.nodes.set(message.node, { counts, seq, ttlMs, heardAt: now, warm, leads, warmFor });
      return known === undefined;
    }
    if (known === undefined) return false;
    if (seq !== known.seq + 1) {
      this.nodes.delete(message.node); // out of step (never on IPC): its next snapshot brings it back
      return false;
    }
    for (const change of message.changes) apply(known.counts, change);
    Object.assign(known, { seq, ttlMs, heardAt: now, warm, leads, warmFor });
    return false;
  }

  /**
   * For the node that just started: a snapshot of every other node heard within its TTL, with the
   * TTL it has left (it is forgotten when the other workers forget it) and its warm-up as of now.
   * Forgets the nodes past their TTL.
   */
  replay(forNode: string, now: number): PresenceMessage[] {
    const out: PresenceMessage[] = [];
    for (const [node, known] of this.nodes) {
      const age = now - known.heardAt;
      if (age >= known.ttlMs) {
        this.nodes.delete(node);
        continue;
      }
      if (node === forNode) continue;
      const { seq, warm, leads } = known;
      const warmFor = known.warm === false ? 0 : Math.round((known.warmFor ?? 0) + age);
      const ttlMs = Math.max(1, Math.floor(known.ttlMs - age));
      out.push({ kind: "snapshot", node, seq, ttlMs, warm, leads, warmFor, counts: toWire(known.counts) });
    }
    return out;
  }
}
