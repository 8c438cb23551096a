import { createClient, type RedisClientType } from "redis";
import type { Leadership, PresenceChannel, PresenceMessage } from "../channel.ts";

/** The pub/sub channel and the lease key of presence in Redis. */
export const PRESENCE_CHANNEL = "herald:presence";
export const LEADER_KEY = "herald:presence:leader";

// Renews the lease when this node holds it, takes it when nobody does (SET NX PX): 1 or OK = leads.
const CLAIM = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Presence over one Redis server (`redis://`): messages by pub/sub on `herald:presence` (never
 * in the event log's stream), the lead by a key with a TTL (`herald:presence:leader`, SET NX PX,
 * renewed by its holder). Two connections: pub/sub needs its own. While Redis is unreachable,
 * messages are dropped (no offline queue) and no node leads: presence entries of other nodes
 * expire by their TTL, and come back with the first snapshots once Redis is back.
 */
export class RedisPresence implements PresenceChannel, Leadership {
  private readonly client: RedisClientType;
  private readonly subscriber: RedisClientType;

  constructor(url: string, onError: (error: Error) => void) {
    this.client = createClient({ url, disableOfflineQueue: true, socket: { connectTimeout: 5000 } });
    this.subscriber = this.client.duplicate();
    this.client.on("error", onError);
    this.subscriber.on("error", onError);
  }

  async start(listener: (message: PresenceMessage) => void): Promise<void> {
    await Promise.all([this.client.connect(), this.subscriber.connect()]);
    await this.subscriber.subscribe(PRESENCE_CHANNEL, (text) => {
      try {
        listener(JSON.parse(text) as PresenceMessage);
      } catch {
        // not a presence message: ignored
      }
    });
  }

  send(message: PresenceMessage): void {
    if (!this.client.isReady) return;
    this.client.publish(PRESENCE_CHANNEL, JSON.stringify(message)).catch(() => {});
  }

  async claim(node: string, ttlMs: number): Promise<boolean> {
    if (!this.client.isReady) return false;
    const reply = await this.client.eval(CLAIM, { keys: [LEADER_KEY], arguments: [node, String(ttlMs)] });
    return reply === 1 || reply === "OK";
  }

  async release(node: string): Promise<void> {
    if (!this.client.isReady) return;
    await this.client.eval(RELEASE, { keys: [LEADER_KEY], arguments: [node] });
  }

  async close(): Promise<void> {
    await Promise.all([this.subscriber.close().catch(() => {}), this.client.close().catch(() => {})]);
  }
}
