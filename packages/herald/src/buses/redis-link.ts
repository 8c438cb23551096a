import { readFileSync } from "node:fs";
import {
  createClient,
  createCluster,
  createSentinel,
  ErrorReply,
  type RedisClientType,
  type RedisClusterType,
  type RedisSentinelType,
} from "redis";
import { RedisCredentialsError, type RefusedParty, refusalOf } from "./redis-refusal.ts";
import type { RedisTarget } from "./redis-url.ts";
import { backoffMs } from "./retry.ts";

/**
 * One connection of the Redis bus to "the primary that holds the log", whatever the deployment:
 * one server (node-redis `createClient`), the primary Sentinels name (`createSentinel`, which follows
 * failovers), or the primary of the log's hash slot in a Redis Cluster (`createCluster`). Every
 * command goes to that primary (never a replica: replicas lag). A node uses two links: one for
 * writes, one for the tail's blocking reads.
 *
 * Contract:
 * - a command is sent at most once: no link retries a command after a connection error (it may
 *   have run), so a publish is never stored twice by a retry here. Redirections (Cluster `MOVED`),
 *   which mean "not run", are followed;
 * - while the primary is unreachable, commands reject at once (no offline queue) with an error
 *   that is not an `ErrorReply`, or within `COMMAND_BOUND_MS` when the client holds them during a
 *   failover; the link keeps reconnecting by itself (`connect` waits for it, `ready` tells);
 * - `sendAndWait` writes and asks `WAIT` on the same connection in one pipeline, so the count
 *   answered is of replicas holding that write, never of a fresh connection's empty history;
 * - the TLS forms (`target.tls`) speak TLS on every connection, Sentinels included;
 * - a Sentinel link whose connection is refused for its credentials rejects `connect` with a
 *   `RedisCredentialsError` (also given to `onError`) naming who refused: the Sentinels or the nodes;
 * - `subscribe` listens on a connection of its own (presence's channel; the bus never subscribes),
 *   built from the same options (TLS, `tls-ca`, credentials). A message published while that
 *   connection is down or moving to a new primary is lost, never delivered twice.
 */
export interface RedisLink {
  /** True when commands can be sent now. */
  readonly ready: boolean;
  /** Connects (a no-op when connected); rejects when no server answers. */
  connect(): Promise<void>;
  send(args: readonly string[]): Promise<unknown>;
  /** `args` (a write) then `WAIT replicas timeoutMs`: the write's reply and the replicas that acknowledged it. */
  sendAndWait(
    args: readonly string[],
    replicas: number,
    timeoutMs: number,
  ): Promise<{ reply: unknown; acked: number }>;
  /**
   * Listens to the pub/sub `channel` from now on (one listener per channel), across reconnections:
   * one server: node-redis subscribes again after a reconnect; Sentinel: node-redis's pub/sub
   * connection follows the primary the Sentinels name (moved at a failover, subscriptions kept);
   * Cluster: node-redis subscribes on one node (a PUBLISH on any node reaches every node's
   * subscribers), and while that node's connection is lost the link is not `ready`: its next
   * `connect` builds the cluster client again, subscribed. Resolves once subscribed; rejects when
   * the subscription cannot be made now (it is kept: the next `connect` makes it). Before the link
   * connected, it only registers: `connect` subscribes.
   */
  subscribe(channel: string, listener: ChannelListener): Promise<void>;
  close(): void;
}

/** What a subscription gets: each message's text. */
export type ChannelListener = (message: string) => void;

export interface LinkOptions {
  readonly target: RedisTarget;
  /** A key of the log: in a Cluster, every command goes to the primary of its slot. */
  readonly routeKey: string;
  /** Connection errors, as they happen (for /readyz's reason). */
  readonly onError: (error: Error) => void;
}

/** Longest wait for a command a Sentinel client holds while it looks for the primary. */
export const COMMAND_BOUND_MS = 10_000;

const CONNECT_TIMEOUT_MS = 5000;

/**
 * Builds a link; throws (at start) when the `tls-ca` file cannot be read. The CA is read once, here:
 * a renewed CA needs a restart.
 */
export function createLink(options: LinkOptions): RedisLink {
  const tls = tlsOptions(options.target);
  if (options.target.mode === "sentinel") return new SentinelLink(options, tls);
  if (options.target.mode === "cluster") return new ClusterLink(options, tls);
  return new SingleLink(options, tls);
}

/** Socket options for TLS: none for plain TCP; `tls: true` with the `tls-ca` file's CAs when given. */
type TlsSocket = { tls: true; ca?: string } | Record<string, never>;

function tlsOptions(target: RedisTarget): TlsSocket {
  if (target.tls === undefined) return {};
  const file = target.tls.caFile;
  if (file === undefined) return { tls: true };
  try {
    return { tls: true, ca: readFileSync(file, "utf8") };
  } catch (error) {
    throw new Error(
      `cannot read the CA file of the Redis bus URL (tls-ca=${file}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; give the path of a readable PEM file`,
    );
  }
}

const waitArgs = (replicas: number, timeoutMs: number) => ["WAIT", String(replicas), String(timeoutMs)];

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** One server: node-redis reconnects by itself (100 ms doubling to 5 s). */
class SingleLink implements RedisLink {
  private readonly client: RedisClientType;
  /** The subscribed connection (a duplicate of `client`: same options), once `subscribe` was called. */
  private subscriber: RedisClientType | undefined;

  constructor(options: LinkOptions, tls: TlsSocket) {
    this.client = createClient({
      url: options.target.url,
      disableOfflineQueue: true,
      socket: {
        ...tls,
        connectTimeout: CONNECT_TIMEOUT_MS,
        reconnectStrategy: (retries: number) => backoffMs(retries),
      },
    }) as RedisClientType;
    this.client.on("error", (error: unknown) => options.onError(toError(error)));
  }

  get ready(): boolean {
    return this.client.isReady && (this.subscriber === undefined || this.subscriber.isReady);
  }

  async connect(): Promise<void> {
    if (!this.client.isOpen) await this.client.connect();
  }

  send(args: readonly string[]): Promise<unknown> {
    return this.client.sendCommand([...args]);
  }

  async sendAndWait(args: readonly string[], replicas: number, timeoutMs: number) {
    const [reply, acked] = (await this.client
      .multi()
      .addCommand([...args])
      .addCommand(waitArgs(replicas, timeoutMs))
      .execAsPipeline()) as unknown[];
    return { reply, acked: Number(acked) };
  }

  async subscribe(channel: string, listener: ChannelListener): Promise<void> {
    if (this.subscriber === undefined) {
      this.subscriber = this.client.duplicate();
      this.subscriber.on("error", () => undefined); // the same errors as the client's: said there
    }
    if (!this.subscriber.isOpen) await this.subscriber.connect();
    await this.subscriber.subscribe(channel, listener);
  }

  close(): void {
    for (const client of [this.subscriber, this.client]) {
      try {
        client?.destroy();
      } catch {
        // already closed
      }
    }
  }
}

/**
 * The primary Sentinels name. node-redis asks the Sentinels, follows `+switch-master`, and holds a
 * command while it looks for the primary: bounded here. `maxCommandRediscovers: 0`: a command that
 * failed is not sent again to the new primary (it may have run on the old one). From a connection
 * error of the primary's client until the primary changes or answers again, the link is not
 * `ready` (publishes are refused at once rather than held); `connect` then asks it a PING.
 * The Sentinels get their own credentials (`sentinel-username` / `sentinel-password`), the data
 * nodes the URL's user and password. A refusal of either during `connect` (node-redis reports the
 * Sentinels' as errors of its discovery, then "None of the sentinels are available") rejects with
 * a `RedisCredentialsError`.
 */
class SentinelLink implements RedisLink {
  private sentinel: RedisSentinelType | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;
  /** False from a connection error of the primary's client until the primary changes or answers. */
  private healthy = true;
  /** The last credentials refusal seen while connecting. */
  private refused: { party: RefusedParty; reply: string } | undefined;
  private readonly subscriptions = new Map<string, ChannelListener>();

  constructor(
    private readonly options: LinkOptions,
    private readonly tls: TlsSocket,
  ) {}

  get ready(): boolean {
    return this.sentinel?.isReady === true && this.healthy;
  }

  connect(): Promise<void> {
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<void> {
    if (this.sentinel !== undefined) {
      if (!this.healthy) await this.send(["PING"]);
      return;
    }
    const { target, onError } = this.options;
    const socket = { ...this.tls, connectTimeout: CONNECT_TIMEOUT_MS };
    this.refused = undefined;
    const sentinel = createSentinel({
      name: target.masterName as string,
      sentinelRootNodes: target.nodes.map((n) => ({ host: n.host, port: n.port })),
      maxCommandRediscovers: 0,
      masterPoolSize: 1,
      passthroughClientErrorEvents: true, // "Master Client (host:port): ..." errors: not healthy
      nodeClientOptions: {
        database: target.database,
        ...(target.username === undefined ? {} : { username: target.username }),
        ...(target.password === undefined ? {} : { password: target.password }),
        disableOfflineQueue: true,
        socket: { ...socket, reconnectStrategy: (retries: number) => backoffMs(retries) },
      },
      sentinelClientOptions: {
        ...(target.sentinelUsername === undefined ? {} : { username: target.sentinelUsername }),
        ...(target.sentinelPassword === undefined ? {} : { password: target.sentinelPassword }),
        socket,
      },
    }) as unknown as RedisSentinelType;
    sentinel.on("error", (error: unknown) => {
      const err = toError(error);
      const master = err.message.startsWith("Master Client");
      if (master) this.healthy = false;
      const reply = refusalOf(err);
      if (reply === undefined) return onError(err);
      // a Sentinel's refusal comes from node-redis's discovery, unprefixed or "Sentinel Client"
      this.refused = { party: master ? "nodes" : "sentinels", reply };
      onError(this.credentialsError(this.refused));
    });
    sentinel.on("topology-change", (event: { type: string }) => {
      if (event.type === "MASTER_CHANGE") this.healthy = true;
    });
    try {
      await sentinel.connect();
      for (const [channel, listener] of this.subscriptions) await sentinel.subscribe(channel, listener);
    } catch (error) {
      void sentinel.destroy().catch(() => undefined);
      throw this.refusal(error) ?? error;
    }
    if (this.closed) {
      void sentinel.destroy().catch(() => undefined);
      return;
    }
    this.sentinel = sentinel;
    this.healthy = true;
  }

  /**
   * The `RedisCredentialsError` for a failed `connect`: a refusal seen meanwhile, or the rejection
   * itself when it is one (the primary's client refused while node-redis opened it: the nodes').
   */
  private refusal(error: unknown): RedisCredentialsError | undefined {
    const own = refusalOf(error);
    const refused = own === undefined ? this.refused : { party: "nodes" as const, reply: own };
    if (refused === undefined) return undefined;
    const credentials = this.credentialsError(refused);
    this.options.onError(credentials);
    return credentials;
  }

  private credentialsError(refused: { party: RefusedParty; reply: string }): RedisCredentialsError {
    const { target } = this.options;
    const sentinels = target.nodes.map((n) => `${n.host}:${n.port}`).join(",");
    const where =
      refused.party === "sentinels"
        ? sentinels
        : `the primary "${target.masterName}" of the Sentinels at ${sentinels}`;
    return new RedisCredentialsError(
      refused.party,
      where,
      refused.reply,
      target.sentinelPassword !== undefined,
    );
  }

  private async run<T>(op: (sentinel: RedisSentinelType) => Promise<T>): Promise<T> {
    const sentinel = this.sentinel;
    if (sentinel === undefined) throw new Error("the Redis primary is unreachable");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer from the Redis primary within ${COMMAND_BOUND_MS} ms`)),
        COMMAND_BOUND_MS,
      );
      timer.unref();
    });
    try {
      const result = await Promise.race([op(sentinel), bound]);
      this.healthy = true;
      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  send(args: readonly string[]): Promise<unknown> {
    return this.run((sentinel) => sentinel.sendCommand(false, [...args]));
  }

  async sendAndWait(args: readonly string[], replicas: number, timeoutMs: number) {
    const [reply, acked] = (await this.run((sentinel) =>
      sentinel
        .multi()
        .addCommand(false, [...args])
        .addCommand(false, waitArgs(replicas, timeoutMs))
        .execAsPipeline(),
    )) as unknown[];
    return { reply, acked: Number(acked) };
  }

  /** On node-redis's pub/sub connection to the primary, which it moves at a failover. */
  async subscribe(channel: string, listener: ChannelListener): Promise<void> {
    this.subscriptions.set(channel, listener);
    await this.sentinel?.subscribe(channel, listener);
  }

  close(): void {
    this.closed = true;
    const sentinel = this.sentinel;
    this.sentinel = undefined;
    void sentinel?.destroy().catch(() => undefined);
  }
}

/**
 * The primary of the log's slot in a Redis Cluster. node-redis follows `MOVED`/`ASK` but does not
 * look for a new primary after a connection error: the link then drops the cluster client and
 * builds a new one (which asks the nodes of the URL for the slots again) on the next `connect`.
 * The same when the node it subscribed on is lost (node-redis subscribes on one node, chosen at
 * random, and does not reconnect it here).
 */
class ClusterLink implements RedisLink {
  private cluster: RedisClusterType | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;
  private readonly subscriptions = new Map<string, ChannelListener>();

  constructor(
    private readonly options: LinkOptions,
    private readonly tls: TlsSocket,
  ) {}

  get ready(): boolean {
    return this.cluster !== undefined && this.listening(this.cluster);
  }

  /** True when every subscription is on a live connection (none asked: true). */
  private listening(cluster: RedisClusterType): boolean {
    return this.subscriptions.size === 0 || cluster.pubSubNode?.client.isReady === true;
  }

  connect(): Promise<void> {
    const current = this.cluster;
    if (current !== undefined) {
      if (this.listening(current)) return Promise.resolve();
      this.drop(current); // its subscribed node is lost: build it again, subscribed
    }
    this.connecting ??= this.build().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async build(): Promise<void> {
    const { target, onError } = this.options;
    const cluster = createCluster({
      rootNodes: target.nodes.map((n) => ({ socket: { host: n.host, port: n.port } })),
      minimizeConnections: true,
      defaults: {
        ...(target.username === undefined ? {} : { username: target.username }),
        ...(target.password === undefined ? {} : { password: target.password }),
        disableOfflineQueue: true,
        socket: { ...this.tls, connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: false },
      },
    }) as unknown as RedisClusterType;
    cluster.on("error", (error: unknown) => onError(toError(error)));
    cluster.on("node-error", (error: unknown) => onError(toError(error)));
    try {
      await cluster.connect();
      for (const [channel, listener] of this.subscriptions) await cluster.subscribe(channel, listener);
    } catch (error) {
      cluster.destroy();
      throw error;
    }
    if (this.closed) {
      cluster.destroy();
      return;
    }
    this.cluster = cluster;
  }

  private async run<T>(op: (cluster: RedisClusterType) => Promise<T>): Promise<T> {
    const cluster = this.cluster;
    if (cluster === undefined) throw new Error("the Redis Cluster primary of the log is unreachable");
    try {
      return await op(cluster);
    } catch (error) {
      // a lost connection, or a failover under way: ask the cluster for its slots again
      if (!(error instanceof ErrorReply) || /^(CLUSTERDOWN|TRYAGAIN|READONLY|MASTERDOWN)/.test(error.message))
        this.drop(cluster);
      throw error;
    }
  }

  private drop(cluster: RedisClusterType): void {
    if (this.cluster === cluster) this.cluster = undefined;
    try {
      cluster.destroy();
    } catch {
      // already closed
    }
  }

  send(args: readonly string[]): Promise<unknown> {
    const key = this.options.routeKey;
    return this.run((cluster) => cluster.sendCommand(key, false, [...args]));
  }

  async sendAndWait(args: readonly string[], replicas: number, timeoutMs: number) {
    const key = this.options.routeKey;
    const [reply, acked] = (await this.run((cluster) =>
      cluster
        .multi()
        .addCommand(key, false, [...args])
        .addCommand(key, false, waitArgs(replicas, timeoutMs))
        .execAsPipeline(),
    )) as unknown[];
    return { reply, acked: Number(acked) };
  }

  async subscribe(channel: string, listener: ChannelListener): Promise<void> {
    this.subscriptions.set(channel, listener);
    await this.cluster?.subscribe(channel, listener);
  }

  close(): void {
    this.closed = true;
    const cluster = this.cluster;
    this.cluster = undefined;
    try {
      cluster?.destroy();
    } catch {
      // already closed
    }
  }
}
