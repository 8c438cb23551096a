import type { SubscribeOptions } from "../types.ts";
import { MISSED_EVENT_TYPE } from "../types.ts";
import type { Deliver, HostMessage, SharedStreamOptions } from "./messages.ts";
import { toWire } from "./messages.ts";

/** What the host needs of a subscription (the SDK's own Subscription, without sharing). */
export interface Upstream {
  readonly lastEventId: string | undefined;
  close(): void;
}
export type MakeUpstream = (options: SubscribeOptions<string>) => Upstream;

/**
 * The one real stream behind a group of tabs, and who is on it. Runs in the SharedWorker, or in
 * the leader tab. Each member is a subscription in some tab; it is dropped on `leave`, or when the
 * host gets the member's Web Lock (the tab closed or crashed: the browser released it).
 *
 * Every member gets every message, in the upstream's order; `post` (a BroadcastChannel) reaches the
 * members that have no `deliver` of their own. A member that joins late gets the stream's state and
 * resume point first, then live events (not those sent before it joined).
 */
export class StreamHost {
  private readonly members = new Map<string, Deliver | undefined>();
  private readonly upstream: Upstream;
  private readonly stop = new AbortController();
  private lastState: HostMessage | undefined;
  private closed = false;

  constructor(
    options: SharedStreamOptions,
    makeUpstream: MakeUpstream,
    private readonly post: Deliver | undefined,
    /** Called when a member left; `empty`: it was the last, the host closed. */
    private readonly onLeave: (member: string, empty: boolean) => void = () => {},
  ) {
    this.upstream = makeUpstream({
      url: options.url,
      topics: options.topics,
      token: options.token,
      headers: options.headers,
      withCredentials: options.withCredentials,
      lastEventId: options.lastEventId,
      initialDelayMs: options.initialDelayMs,
      maxDelayMs: options.maxDelayMs,
      idleTimeoutMs: options.idleTimeoutMs,
      transport: "fetch", // every event type, and headers for the token
      parse: (text) => text,
      onEvent: (m) =>
        this.send({ t: "event", id: m.id === "" ? undefined : m.id, type: m.type, data: m.text }),
      onMissed: (info) =>
        this.send({
          t: "event",
          id: info.resumeId,
          type: MISSED_EVENT_TYPE,
          data: JSON.stringify({ lastEventId: info.lastEventId, reason: info.reason }),
        }),
      onStateChange: (change) => {
        if (change.state === "open") {
          const at = this.upstream?.lastEventId;
          if (at !== undefined) this.send({ t: "at", id: at });
          this.lastState = { t: "state", state: "open" };
          this.send(this.lastState);
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
      onError: (error) => this.send({ t: "fatal", error: toWire(error) }),
    });
  }

  /** Adds a member (again: harmless). `lock`: the Web Lock its tab holds while it lives. */
  join(member: string, deliver: Deliver | undefined, lock: string | undefined): void {
    if (this.closed) return;
    const known = this.members.has(member);
    this.members.set(member, deliver);
    const to = deliver ?? this.post;
    if (this.lastState !== undefined) to?.(this.lastState);
    const at = this.upstream.lastEventId;
    if (at !== undefined) to?.({ t: "at", id: at });
    if (known) return;
    this.sendCount();
    if (lock !== undefined) {
      navigator.locks.request(lock, { signal: this.stop.signal }, () => this.leave(member)).catch(() => {}); // aborted: the host closed first
    }
  }

  leave(member: string): void {
    if (!this.members.delete(member) || this.closed) return;
    const empty = this.members.size === 0;
    if (empty) this.close();
    else this.sendCount();
    this.onLeave(member, empty);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stop.abort();
    this.upstream.close();
  }

  private sendCount(): void {
    this.send({ t: "tabs", count: this.members.size });
  }

  private send(message: HostMessage): void {
    if (this.closed) return;
    this.post?.(message);
    for (const deliver of this.members.values()) deliver?.(message);
  }
}
