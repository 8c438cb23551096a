import { createLink, type RedisLink } from "../../buses/redis-link.ts";
import { parseRedisUrl } from "../../buses/redis-url.ts";
import type { Leadership, PresenceChannel, PresenceMessage } from "../channel.ts";

/** The pub/sub channel and the lease key of presence in Redis. */
export const PRESENCE_CHANNEL = "herald:presence";
export const LEADER_KEY = "herald:presence:leader";

// Renews the lease when this node holds it, takes it when nobody does (SET NX PX): 1 or OK = leads.
const CLAIM = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Presence over the Redis of the bus, in any of its forms (`redis://`, `redis+sentinel://`,
 * `redis+cluster://`, and their `rediss` forms with `tls-ca=`): messages by pub/sub on
 * `herald:presence` (never in the event log's stream), the lead by a key with a TTL
 * (`herald:presence:leader`, SET NX PX, renewed by its holder). One link of the bus's kind
 * (buses/redis-link.ts: the same URL, TLS and credentials), its commands to the primary (in a
 * Cluster: the primary of the lease key's slot; a PUBLISH there reaches every node's subscribers),
 * its subscription on a connection of its own. While Redis is unreachable, or the link moves to a
 * new primary (a Sentinel failover), messages are dropped (no offline queue, no retry: never
 * twice) and this node does not lead: presence entries of other nodes expire by their TTL and come
 * back with the first snapshots once the link is back; the lease is then on the new primary (as
 * replicated, or taken again once it lapsed).
 */
export class RedisPresence implements PresenceChannel, Leadership {
  private readonly link: RedisLink;
  private listener: ((message: PresenceMessage) => void) | undefined;
  /** True once the channel is subscribed (then kept by the link across reconnections). */
  private subscribed = false;
  private opening: Promise<void> | undefined;

  /** Throws (at start) when the URL's `tls-ca` file cannot be read. */
  constructor(
    bus: string,
    private readonly onError: (error: Error) => void,
  ) {
    this.link = createLink({ target: parseRedisUrl(bus), routeKey: LEADER_KEY, onError });
  }

  /** Resolves once subscribed; when Redis cannot be reached, later (each heartbeat tries again). */
  async start(listener: (message: PresenceMessage) => void): Promise<void> {
    this.listener = listener;
    await this.open().catch((error: unknown) => this.onError(error as Error));
  }

  private readonly hear = (text: string): void => {
    try {
      this.listener?.(JSON.parse(text) as PresenceMessage);
    } catch {
      // not a presence message: ignored
    }
  };

  /** Connects the link (a no-op when connected) and subscribes once. */
  private open(): Promise<void> {
    this.opening ??= (async () => {
      await this.link.connect();
      if (!this.subscribed) {
        await this.link.subscribe(PRESENCE_CHANNEL, this.hear);
        this.subscribed = true;
      }
    })().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  /** Subscribed, on a link that is up (`PresenceChannel.hearing`). */
  get hearing(): boolean {
    return this.subscribed && this.link.ready;
  }

  /** True when commands can go now; otherwise starts a reconnection (in the background). */
  private usable(): boolean {
    if (this.subscribed && this.link.ready) return true;
    this.open().catch(() => undefined); // errors are said by the link's onError
    return false;
  }

  send(message: PresenceMessage): void {
    if (!this.usable()) return;
    this.link.send(["PUBLISH", PRESENCE_CHANNEL, JSON.stringify(message)]).catch(() => {});
  }

  /** Never leads without its subscription: a node that cannot hear the others must not announce. */
  async claim(node: string, ttlMs: number): Promise<boolean> {
    if (!this.usable()) return false;
    const reply = await this.link.send(["EVAL", CLAIM, "1", LEADER_KEY, node, String(ttlMs)]);
    return reply === 1 || reply === "OK";
  }

  async release(node: string): Promise<void> {
    if (!this.link.ready) return;
    await this.link.send(["EVAL", RELEASE, "1", LEADER_KEY, node]);
  }

  /** The `bye` sent just before went on the same connection as `release`, answered before this. */
  async close(): Promise<void> {
    this.link.close();
  }
}
